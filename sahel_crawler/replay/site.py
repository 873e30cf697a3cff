"""What a replayed host serves: resources looked up by path, independent of how they were made.

The server only knows the small `Site` protocol, so a generated site (the benchmark's thousands of
articles) can replace the bundled one without touching the server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Protocol

from sahel_crawler.replay.manifest import ExpectedArticle


@dataclass(frozen=True)
class Resource:
    """One response body with its status and headers.

    `etag` and `last_modified` make the resource answer conditional GETs with 304.
    """

    body: bytes
    content_type: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    etag: str | None = None
    last_modified: datetime | None = None

    def not_modified(self, if_none_match: str | None, if_modified_since: str | None) -> bool:
        """Whether a conditional GET with these request headers should get a 304 (RFC 9110 13.2.2)."""
        if self.status != 200:
            return False
        if if_none_match is not None:
            # If-None-Match takes precedence over If-Modified-Since; comparison is weak.
            if self.etag is None:
                return False
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or self.etag.removeprefix("W/") in tags
        if if_modified_since and self.last_modified is not None:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return self.last_modified.replace(microsecond=0) <= since
        return False

    def header_items(self) -> list[tuple[str, str]]:
        """All response headers except Content-Length."""
        items = [("Content-Type", self.content_type), *self.headers]
        if self.etag is not None:
            items.append(("ETag", self.etag))
        if self.last_modified is not None:
            items.append(("Last-Modified", format_datetime(self.last_modified.astimezone(UTC), usegmt=True)))
        return items


def cacheable(body: bytes, content_type: str, last_modified: datetime) -> Resource:
    """A 200 resource with a content-hash ETag and a Last-Modified date (feeds, sitemaps)."""
    etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
    return Resource(body, content_type, etag=etag, last_modified=last_modified)


def redirect(location: str, status: int = 301) -> Resource:
    """A redirect to `location` (absolute URL or absolute path)."""
    return Resource(b"", "text/html; charset=utf-8", status=status, headers=(("Location", location),))


class Site(Protocol):
    """What one host serves. `path` is the decoded path (percent-escapes resolved, no query)."""

    def get(self, path: str) -> Resource | None:
        """The resource at `path`, or None for a 404."""
        ...


@dataclass
class StaticSite:
    """A site held in memory as a path -> resource mapping."""

    resources: dict[str, Resource] = field(default_factory=dict)

    def add(self, path: str, resource: Resource) -> None:
        """Serve `resource` at the decoded `path`; a path may be added only once."""
        if path in self.resources:
            raise ValueError(f"path served twice: {path}")
        self.resources[path] = resource

    def get(self, path: str) -> Resource | None:
        """The resource at `path`, or None."""
        return self.resources.get(path)

    def __len__(self) -> int:
        return len(self.resources)


@dataclass
class BuiltSite:
    """Everything a site builder makes once the servers' base URLs are known.

    `outlets` holds one sources-registry entry per outlet id (name, feeds, sitemaps, sections,
    allow, deny), `sites` what each outlet's host serves, and `articles` the manifest.
    """

    sites: dict[str, Site]
    outlets: dict[str, dict[str, object]]
    articles: list[ExpectedArticle]


# Called with the base URL of every outlet ("http://127.0.0.1:41234") and the reference time.
SiteBuilder = Callable[[Mapping[str, str], datetime], BuiltSite]
