"""Rendering of replay pages, feeds and sitemaps from Jinja2 templates (templates/).

Pure functions from data to text, shared by the bundled site and by generated benchmark sites.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from email.utils import format_datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

import jinja2

# Characters left as they are when percent-encoding a path or URL: what browsers and the outlets
# leave unescaped, so Arabic and accented letters are escaped and nothing else changes.
_URL_SAFE = "/:?=&%#-._~+,;@!$'()*"


def encode_path(path: str) -> str:
    """Percent-encode the non-ASCII characters of a path (UTF-8, upper-case hex, as served)."""
    return quote(path, safe=_URL_SAFE)


@cache
def environment() -> jinja2.Environment:
    """The template environment; autoescaping is on for HTML and XML."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("sahel_crawler.replay") / "templates")),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        keep_trailing_newline=True,
    )
    env.filters["href"] = encode_path
    return env


def render(template: str, **context: Any) -> str:
    """Render one template of templates/."""
    return environment().get_template(template).render(**context)


def json_ld(data: dict[str, Any]) -> str:
    """JSON-LD for a <script> element, with <, > and & escaped as the outlets do."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


def iso(moment: datetime, zone: tzinfo) -> str:
    """ISO 8601 with the offset of `zone`, to the second."""
    return moment.astimezone(zone).replace(microsecond=0).isoformat()


def http_date(moment: datetime) -> str:
    """RFC 822 date in GMT, as in RSS pubDate and HTTP headers."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed or news sitemap."""

    title: str
    link: str
    published: datetime
    summary: str = ""
    guid: str = ""
    author: str | None = None
    categories: tuple[str, ...] = ()
    language: str = "en"
    image: str = ""


@dataclass(frozen=True)
class FeedInfo:
    """Channel-level data of a feed."""

    title: str
    link: str
    self_url: str
    description: str
    language: str
    copyright: str = ""
    entries: list[FeedEntry] = field(default_factory=list)


def _entry_context(entry: FeedEntry, zone: tzinfo) -> dict[str, Any]:
    return {
        "title": entry.title,
        "link": entry.link,
        "guid": entry.guid or entry.link,
        "published_rfc": http_date(entry.published),
        "published_iso": iso(entry.published, zone),
        "summary": entry.summary,
        "author": entry.author,
        "categories": entry.categories,
        "language": entry.language,
        "image": entry.image,
    }


def _feed_context(feed: FeedInfo, zone: tzinfo) -> dict[str, Any]:
    updated = max((entry.published for entry in feed.entries), default=datetime(2000, 1, 1, tzinfo=UTC))
    return {
        "title": feed.title,
        "link": feed.link,
        "self_url": feed.self_url,
        "description": feed.description,
        "language": feed.language,
        "copyright": feed.copyright,
        "updated_rfc": http_date(updated),
        "updated_iso": iso(updated, UTC),
        "entries": [_entry_context(entry, zone) for entry in feed.entries],
    }


def rss(feed: FeedInfo, zone: tzinfo = UTC) -> bytes:
    """An RSS 2.0 document."""
    return render("rss.xml", f=_feed_context(feed, zone)).encode("utf-8")


def atom(feed: FeedInfo, zone: tzinfo = UTC) -> bytes:
    """An Atom 1.0 document."""
    return render("atom.xml", f=_feed_context(feed, zone)).encode("utf-8")


def news_sitemap(publication: str, entries: list[FeedEntry], zone: tzinfo) -> bytes:
    """A Google News sitemap (news:publication_date, news:title, news:language per URL)."""
    items = [_entry_context(entry, zone) for entry in entries]
    return render("news_sitemap.xml", s={"publication": publication, "urls": items}).encode("utf-8")


def sitemap_index(entries: list[tuple[str, datetime]]) -> bytes:
    """A sitemap index listing (location, last modification) pairs."""
    rows = [{"loc": loc, "lastmod": iso(lastmod, UTC)} for loc, lastmod in entries]
    return render("sitemap_index.xml", s={"entries": rows}).encode("utf-8")
