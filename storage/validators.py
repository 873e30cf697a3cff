"""The incremental crawl's own records: the HTTP validators (ETag / Last-Modified) of feeds and
sitemaps, sent back as a conditional GET by the next crawl (`sahel_crawler.incremental`).

Defines `HttpValidator` (table `http_validators`); the crawl reads it through
`storage.lookups.Lookups.validators`. Like `repository`, the functions take a session and never
commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, UTCDateTime, utcnow


class HttpValidator(Base):
    """ETag / Last-Modified remembered per feed or sitemap URL for conditional GET."""

    __tablename__ = "http_validators"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
