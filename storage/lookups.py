"""The crawl's read-only lookups on its hot path: is this URL stored, what is stored under it,
which article has this body fingerprint, what validators a feed had.

They run on the reactor thread for every scheduled request and every article, so they avoid
the ORM session machinery: one connection is held for the crawl, each lookup is a short
transaction of its own (it sees every commit made before it, by this crawl's database thread
or by another process) and the statements are built once. On SQLite the transactions are
read-only (`storage.db.read_only`): they never wait for a writer's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, exists, or_, select

from storage.db import read_only
from storage.models import Article, ArticleAlias, HttpValidator

# A feed teaser (text_source "feed") is not stored for this purpose: its page is asked for again.
_IS_STORED = select(
    or_(
        exists().where(Article.url == bindparam("url"), Article.text_source == "page"),
        exists().where(
            ArticleAlias.url == bindparam("url"), ArticleAlias.article_id == Article.id, Article.text_source == "page"
        ),
    )
)
_STORED_VERSION = select(Article.id, Article.title, Article.text, Article.text_hash).where(
    Article.url == bindparam("url")
)
_BY_TEXT_HASH = (
    select(Article.id, Article.url).where(Article.text_hash == bindparam("text_hash")).order_by(Article.id).limit(1)
)
_VALIDATORS = select(HttpValidator.etag, HttpValidator.last_modified).where(HttpValidator.url == bindparam("url"))


@dataclass(frozen=True)
class StoredVersion:
    """What is stored under a canonical URL, to tell an update from an unchanged refetch."""

    article_id: int
    title: str | None
    text: str
    text_hash: str | None


class Lookups:
    """Read-only lookups over one held connection; call `close()` when the crawl ends.

    Not thread-safe: use it from one thread (the reactor's).
    """

    def __init__(self, engine: Engine) -> None:
        self._connection: Connection = read_only(engine).connect()

    def _first(self, statement: Any, **params: Any) -> Any:
        with self._connection.begin():
            return self._connection.execute(statement, params).first()

    def is_stored_url(self, url: str) -> bool:
        """Whether `url` is stored, as an article's key or as an alias."""
        row = self._first(_IS_STORED, url=url)
        return bool(row and row[0])

    def stored_version(self, url: str) -> StoredVersion | None:
        """The stored title and text of the article keyed by `url` (aliases do not count)."""
        row = self._first(_STORED_VERSION, url=url)
        return StoredVersion(*row) if row else None

    def kept_with_text_hash(self, text_hash: str) -> tuple[int, str] | None:
        """(id, url) of the first stored article with this body fingerprint."""
        row = self._first(_BY_TEXT_HASH, text_hash=text_hash)
        return (row[0], row[1]) if row else None

    def validators(self, url: str) -> tuple[str | None, str | None] | None:
        """The (ETag, Last-Modified) remembered for `url`, or None."""
        row = self._first(_VALIDATORS, url=url)
        return (row[0], row[1]) if row else None

    def close(self) -> None:
        """Give the connection back."""
        self._connection.close()
