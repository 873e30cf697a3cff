"""Queries of duplicate detection and refreshes that run at start, at the end or rarely: the
recent window of near-duplicate signatures, article revisions, re-pointed originals. The
per-request and per-article lookups are in `lookups`.

Like `repository`, every function takes a session and never commits: the caller owns the
transaction. Also defines `ArticleRevision` (table `article_revisions`), the previous version
of an article that a refresh found changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from storage.lookups import StoredVersion
from storage.models import (
    Article,
    ArticleSignature,
    Base,
    UTCDateTime,
    utcnow,
)


class ArticleRevision(Base):
    """The previous title and text of an article that changed when it was fetched again."""

    __tablename__ = "article_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str | None] = mapped_column(String(64))
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))


# -- articles -----------------------------------------------------------------------------


def record_revision(session: Session, previous: StoredVersion, run_id: int | None = None) -> None:
    """Keep the version of an article that an update is about to replace."""
    session.add(
        ArticleRevision(
            article_id=previous.article_id,
            title=previous.title,
            text=previous.text,
            text_hash=previous.text_hash,
            run_id=run_id,
        )
    )


def repoint_duplicates(session: Session, old_original_url: str, new_original_url: str) -> int:
    """Make the earlier-published `new_original_url` the original of a story: the old original
    and every article marked as its duplicate point to it. Returns how many rows changed."""
    new_id = session.scalar(select(Article.id).where(Article.url == new_original_url))
    old_id = session.scalar(select(Article.id).where(Article.url == old_original_url))
    if new_id is None or old_id is None or new_id == old_id:
        return 0
    changed = session.execute(
        update(Article)
        .where(or_(Article.id == old_id, Article.duplicate_of_id == old_id), Article.id != new_id)
        .values(duplicate_of_id=new_id)
    )
    return changed.rowcount or 0


# -- near-duplicate signatures ------------------------------------------------------------


@dataclass(frozen=True)
class StoredSignature:
    """A persisted signature with what the index needs to resolve a match."""

    url: str
    signature: bytes
    published_at: datetime | None
    duplicate_of_url: str | None


def load_recent_signatures(session: Session, since: datetime, limit: int | None = None) -> list[StoredSignature]:
    """Signatures created at or after `since`, oldest first; the newest `limit` when more."""
    original = aliased(Article)
    query = (
        select(ArticleSignature.signature, Article.url, Article.published_at, original.url)
        .join(Article, Article.id == ArticleSignature.article_id)
        .outerjoin(original, original.id == Article.duplicate_of_id)
        .where(ArticleSignature.created_at >= since)
        .order_by(ArticleSignature.created_at.desc(), ArticleSignature.article_id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    return [StoredSignature(r[1], r[0], r[2], r[3]) for r in reversed(rows)]
