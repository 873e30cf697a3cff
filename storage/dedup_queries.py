"""Queries of duplicate detection and incremental crawling: seen URLs, text fingerprints,
the recent window of near-duplicate signatures, HTTP validators and article revisions.

Like `repository`, every function takes a session and never commits: the caller owns the
transaction. Also defines `ArticleRevision` (table `article_revisions`), the previous version
of an article that a refresh found changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, ForeignKey, Integer, String, Text, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, sessionmaker

from storage.db import read_only
from storage.models import (
    Article,
    ArticleAlias,
    ArticleSignature,
    Base,
    HttpValidator,
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


# -- read-only sessions -------------------------------------------------------------------


def reader_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions for read-only lookups that never queue behind a writer (`storage.db.read_only`).
    Never write through them."""
    return sessionmaker(read_only(engine), expire_on_commit=False)


# -- seen URLs ----------------------------------------------------------------------------


def is_stored_url(session: Session, url: str) -> bool:
    """Whether `url` is stored, as an article's key or as an alias: one statement, two unique-index probes."""
    return bool(
        session.scalar(select(or_(exists().where(Article.url == url), exists().where(ArticleAlias.url == url))))
    )


# -- articles -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredVersion:
    """What is stored under a canonical URL, to tell an update from an unchanged refetch."""

    article_id: int
    title: str | None
    text: str
    text_hash: str | None


def stored_version(session: Session, url: str) -> StoredVersion | None:
    """The stored title and text of the article keyed by `url` (aliases do not count)."""
    row = session.execute(
        select(Article.id, Article.title, Article.text, Article.text_hash).where(Article.url == url)
    ).first()
    return StoredVersion(row[0], row[1], row[2], row[3]) if row else None


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


# -- HTTP validators (conditional GET) ----------------------------------------------------


def get_validators(session: Session, url: str) -> tuple[str | None, str | None] | None:
    """The (ETag, Last-Modified) remembered for `url`, or None."""
    row = session.execute(
        select(HttpValidator.etag, HttpValidator.last_modified).where(HttpValidator.url == url)
    ).first()
    return (row[0], row[1]) if row else None


def put_validators(session: Session, url: str, etag: str | None, last_modified: str | None) -> None:
    """Remember (or replace) the validators of `url`; both None forgets them."""
    found = session.get(HttpValidator, url)
    if etag is None and last_modified is None:
        if found is not None:
            session.delete(found)
        return
    if found is None:
        try:
            with session.begin_nested():
                session.add(HttpValidator(url=url, etag=etag, last_modified=last_modified))
            return
        except IntegrityError:  # a concurrent crawl remembered it first: overwrite
            found = session.get(HttpValidator, url, populate_existing=True)
            if found is None:
                return
    found.etag, found.last_modified, found.checked_at = etag, last_modified, utcnow()
