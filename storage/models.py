"""The database schema: SQLAlchemy 2.0 typed ORM models.

This schema is a public interface for analysts (see docs/schema.md): add columns, do not
rename or repurpose them. Every timestamp is stored in UTC and read back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    false,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC (portable to SQLite) and returns them aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Outlet(Base):
    """A news outlet from the sources registry."""

    __tablename__ = "outlets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # -- registry metadata (docs/sources.md "Outlet metadata"), refreshed by every crawl --
    country: Mapped[str | None] = mapped_column(String(2))
    languages: Mapped[str | None] = mapped_column(String(64))  # comma-separated ISO 639 codes
    kind: Mapped[str | None] = mapped_column(String(32))
    owner: Mapped[str | None] = mapped_column(String(200))
    state_affiliated: Mapped[str | None] = mapped_column(String(32))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Article(Base):
    """One stored article, keyed by its canonical URL."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id"), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_at_source: Mapped[str | None] = mapped_column(String(16))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(16), index=True)
    language_prob: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    standfirst: Mapped[str | None] = mapped_column(Text)  # visible lead paragraph; text starts with it
    paywalled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    text_source: Mapped[str] = mapped_column(String(8), default="page", server_default="page")  # page | feed
    text_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    discovered_via: Mapped[str | None] = mapped_column(String(16))
    lexicon_version: Mapped[str | None] = mapped_column(String(64))
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))

    outlet: Mapped[Outlet] = relationship()
    duplicate_of: Mapped[Article | None] = relationship(remote_side=[id])
    aliases: Mapped[list[ArticleAlias]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleAlias.id"
    )
    keyword_hits: Mapped[list[KeywordHit]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="KeywordHit.concept_id"
    )
    place_hits: Mapped[list[PlaceHit]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="PlaceHit.name_id"
    )

    @hybrid_property
    def dated_at(self) -> datetime:
        """When the article happened: its publication time, else the time it was fetched."""
        return self.published_at if self.published_at is not None else self.fetched_at

    @dated_at.inplace.expression
    @classmethod
    def _dated_at_expression(cls) -> ColumnElement[datetime]:
        # The expression the analysts' indexes cover (storage/views.py): keep the two in step.
        return func.coalesce(cls.published_at, cls.fetched_at)


class ArticleAlias(Base):
    """Another URL an article was reached by (tracking variants, other sections, exact copies)."""

    __tablename__ = "article_aliases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    reason: Mapped[str] = mapped_column(String(16), default="variant")  # variant | exact_duplicate
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="aliases")


class KeywordHit(Base):
    """One lexicon concept found in one article."""

    __tablename__ = "keyword_hits"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    concept_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    form: Mapped[str] = mapped_column(Text)  # the first matched form, as written in the article
    count: Mapped[int] = mapped_column(Integer)
    first_offset: Mapped[int] = mapped_column(Integer)  # character offset in title + "\n\n" + text
    snippet: Mapped[str] = mapped_column(Text)

    article: Mapped[Article] = relationship(back_populates="keyword_hits")

    __table_args__ = (Index("ix_keyword_hits_concept", "concept_id"),)


class PlaceHit(Base):
    """One gazetteer place name found in one article, with the place it resolved to.

    `place_id` is NULL (and so are the coordinates) when the name stays ambiguous; the columns
    `place_kind`, `latitude` and `longitude` copy the gazetteer entry the hit was resolved with.
    """

    __tablename__ = "place_hits"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the name concept
    place_id: Mapped[str | None] = mapped_column(String(64))
    place_kind: Mapped[str | None] = mapped_column(String(16))  # locality | country
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    form: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer)
    first_offset: Mapped[int] = mapped_column(Integer)  # character offset in title + "\n\n" + text
    snippet: Mapped[str] = mapped_column(Text)

    article: Mapped[Article] = relationship(back_populates="place_hits")

    __table_args__ = (Index("ix_place_hits_place", "place_id"),)


class ArticleSignature(Base):
    """A persisted near-duplicate signature (MinHash), loaded for a recent window at start."""

    __tablename__ = "article_signatures"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class CrawlRun(Base):
    """One crawl: when, of which outlets, how it ended and what it counted."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|finished|failed|interrupted
    finish_reason: Mapped[str | None] = mapped_column(String(64))
    outlets: Mapped[str] = mapped_column(Text, default="")  # comma-separated outlet ids
    requests: Mapped[int] = mapped_column(Integer, default=0)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    new_articles: Mapped[int] = mapped_column(Integer, default=0)
    updated_articles: Mapped[int] = mapped_column(Integer, default=0)
    exact_duplicates: Mapped[int] = mapped_column(Integer, default=0)
    near_duplicates: Mapped[int] = mapped_column(Integer, default=0)
    skipped_seen: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    no_text: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    # the crawl's process, to tell a run whose process is gone (kill -9) from one still going
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    process_start: Mapped[str | None] = mapped_column(String(64))


class CrawlError(Base):
    """A page-level failure of a crawl run: which URL and why (the run goes on); also each page
    without article text (kind `NO_TEXT`), counted in the run's `no_text`, not in its `errors`."""

    NO_TEXT = "no_text"

    __tablename__ = "crawl_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    outlet_id: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    kind: Mapped[str] = mapped_column(String(32))  # http | download | feed | sitemap | extraction | no_text ...
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HttpValidator(Base):
    """ETag / Last-Modified remembered per feed or sitemap URL for conditional GET."""

    __tablename__ = "http_validators"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertRule(Base):
    """Where a watch rule's evaluation stands: the articles and re-flaggings it has looked at."""

    __tablename__ = "alert_rules"

    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[str] = mapped_column(Text)  # the query, or the breaking spec, as configured
    last_article_id: Mapped[int] = mapped_column(Integer, default=0)  # every article up to it evaluated
    last_requeue_id: Mapped[int] = mapped_column(Integer, default=0)  # every re-flagging up to it evaluated
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Alert(Base):
    """One alert of one rule: a story (its first article and copies) or a breaking spike."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(200))  # story:ID or spike:CONCEPT:START, once per rule
    story_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    concepts: Mapped[str] = mapped_column(Text, default="")  # comma-separated concept ids
    snippet: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ux_alerts_rule_key", "rule_id", "key", unique=True),)


class AlertArticle(Base):
    """An article listed in an alert (the story's first article and its near-duplicate copies)."""

    __tablename__ = "alert_articles"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)


class AlertDelivery(Base):
    """One alert on one channel of its rule: pending, sent, or failed and retried later."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(300))  # webhook:HOST:HASH | email:ADDRESS | feed:PATH
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ux_alert_deliveries_alert_channel", "alert_id", "channel", unique=True),)


class AlertRequeue(Base):
    """An article whose concepts changed on re-flagging: every rule evaluates it again."""

    __tablename__ = "alert_requeue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BackfillMonth(Base):
    """A month of an outlet's archive that a backfill has read in full, per archive source
    ("sitemaps", "wayback", "warc:FILE NAME"): the next backfill does not read it again."""

    __tablename__ = "backfill_months"

    outlet_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    listed: Mapped[int] = mapped_column(Integer, default=0)  # article URLs the month's listing held
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
