"""Feed discovery: RSS 2.0, Atom, RDF and JSON Feed documents to article links.

Pure functions, bytes in and results out. Bad input never raises: the result carries a
short reason instead, so that the spider can log it and count it.

Also home of the small pieces shared with :mod:`sahel_crawler.discovery.sitemaps`:
:class:`DiscoveredLink`, :func:`parse_date`, :func:`normalise_language` and :func:`http_url`.
"""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

__all__ = [
    "DiscoveredLink",
    "FeedResult",
    "http_url",
    "looks_like_feed",
    "normalise_language",
    "parse_date",
    "parse_feed",
]

_HTTP_SCHEMES = frozenset({"http", "https"})
# An absolute http(s) URL without whitespace or control characters (those take the urlsplit road).
_ABSOLUTE_HTTP = re.compile(r"https?://[^/?#\x00-\x20\x7f]+[^\x00-\x20\x7f]*\Z", re.IGNORECASE)
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
# W3C datetime shortcuts that datetime.fromisoformat does not take: "2024" and "2024-05".
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")
# An element start: the end of the prolog, where DTD declarations live.
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_:]")
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE\b[^\[>]*(?:\[.*?\]\s*)?>", re.IGNORECASE | re.DOTALL)
# feedparser reports these when a declared charset or media type was overridden; the feed is still fine.
_BENIGN_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_FEED_MARKERS = (b"<rss", b"<feed", b"<rdf:rdf", b"<channel", b"jsonfeed.org")
_FEED_TYPES = ("rss", "atom", "rdf", "feed+json")


@dataclass(frozen=True)
class DiscoveredLink:
    """A page URL listed by a feed or sitemap, with what the listing says about it."""

    url: str  # absolute, resolved against the document URL, otherwise as listed
    title: str | None = None
    published_at: datetime | None = None  # timezone-aware UTC
    language: str | None = None  # primary language subtag: "ar", "fr", "en"
    # what a feed entry says besides (the teaser stored when the outlet refuses the page)
    description: str | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedResult:
    """Links of a feed, and a short reason when it was unusable or partly broken (else ``None``)."""

    links: list[DiscoveredLink]
    error: str | None = None


def http_url(value: str | None, base: str) -> str | None:
    """Return ``value`` resolved against ``base`` if it is an http(s) URL with a host, else ``None``."""
    if not value:
        return None
    value = value.strip()
    # the common case, kept cheap: a sitemap lists up to 50,000 absolute URLs
    joined = value if _ABSOLUTE_HTTP.match(value) else None
    try:
        joined = joined or urljoin(base, value)
        parts = urlsplit(joined)
        host, _ = parts.hostname, parts.port  # both raise on what Scrapy would refuse later
    except ValueError:  # e.g. a broken IPv6 literal, a bracket in the host, a port "abc" or 99999
        return None
    if parts.scheme.lower() not in _HTTP_SCHEMES or not host:
        return None
    return joined


def parse_date(value: str | None) -> datetime | None:
    """Parse an ISO 8601 / W3C or RFC 822 date into an aware UTC datetime.

    A date without a zone is taken as UTC; anything unparsable or impossible gives ``None``.

    >>> parse_date("Tue, 05 Mar 2024 10:00:00 +0100").isoformat()
    '2024-03-05T09:00:00+00:00'
    """
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        parsed = _parse_iso(text) or _parse_rfc822(text)
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _parse_iso(text: str) -> datetime | None:
    short = _YEAR_MONTH.fullmatch(text)
    if short:
        return datetime(int(short[1]), int(short[2] or 1), 1)
    if not text[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(text.upper())  # "z"/"t" are legal in ISO 8601
    except ValueError:
        return None


def _parse_rfc822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def normalise_language(value: str | None) -> str | None:
    """Reduce a language tag ("fr-FR", "ar_AR", "EN") to its primary subtag, or ``None``."""
    if not value:
        return None
    primary = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return primary if _LANGUAGE.fullmatch(primary) else None


def looks_like_feed(body: bytes, content_type: str | None) -> bool:
    """Cheap sniff: does this response look like an RSS, Atom, RDF or JSON feed?"""
    media = (content_type or "").lower()
    if any(kind in media for kind in _FEED_TYPES):
        return True
    head = body[:2048].replace(b"\x00", b"").lower()
    return any(marker in head for marker in _FEED_MARKERS)


def parse_feed(body: bytes, url: str, *, content_type: str | None = None) -> FeedResult:
    """Parse a feed body fetched from ``url`` into the http(s) links it lists.

    Handles RSS 0.9x/1.0 (RDF)/2.0, Atom and JSON Feed through feedparser, tolerant of broken XML,
    honouring the byte order mark, the XML declaration and the HTTP ``content_type`` charset.
    Never raises: a broken but readable feed gives its links and an ``error``; an unusable one gives
    no links and the reason.
    """
    try:
        if not body or not body.strip():
            return FeedResult([], "empty document")
        if _is_json_feed(body, content_type):
            return _parse_json_feed(body, url)
        return _parse_xml_feed(body, url, content_type)
    except Exception as exc:  # a feed must never stop the crawl; report instead
        return FeedResult([], f"feed parser failed: {type(exc).__name__}: {exc}"[:300])


def _parse_xml_feed(body: bytes, url: str, content_type: str | None) -> FeedResult:
    body, dtd_note = _defuse_dtd(body)
    if body is None:
        return FeedResult([], dtd_note)
    # No content-location: feedparser would then urljoin every element (a quarter of its time); entry
    # links are resolved against ``url`` here instead, after any xml:base feedparser applied.
    headers = {"content-type": content_type} if content_type else {}
    # A BytesIO, never the bytes themselves: feedparser opens a bytes argument as a local file name.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,  # only titles and links are used: skip the costly HTML passes
        resolve_relative_uris=False,
    )
    feed_language = normalise_language(parsed.feed.get("language"))
    links = _unique(_entry_link(entry, url, feed_language) for entry in parsed.entries)
    problem = _bozo_reason(parsed)
    if not parsed.get("version") and not parsed.entries:
        reason = "not a feed"
        if _looks_like_html(body):
            reason += " (an HTML page)"
        elif problem:
            reason += f": {problem}"
        return FeedResult([], reason)
    return FeedResult(links, "; ".join(note for note in (problem, dtd_note) if note) or None)


def _defuse_dtd(body: bytes) -> tuple[bytes | None, str | None]:
    """Drop a DOCTYPE that declares entities, before expat can expand them (billion laughs, XXE).

    feedparser's own DOCTYPE filter only sees declarations at the start of a line; a one-line prolog
    reaches expat intact and costs seconds and tens of MB before expat's amplification limit stops it.
    """
    probe = body[:65536]
    ascii_compatible = b"\x00" not in probe[:4]
    if not ascii_compatible:  # UTF-16/32: look at the ASCII skeleton
        probe = probe.replace(b"\x00", b"")
    first = _FIRST_ELEMENT.search(probe)
    prolog = probe[: first.start()] if first else probe
    if not _ENTITY_DECLARATION.search(prolog):
        return body, None
    if not ascii_compatible:
        return None, "refused: DTD with entity declarations"
    cut = first.start() if first else len(body)
    head, rest = body[:cut], body[cut:]
    for _ in range(8):  # a crafted subset can hide one DOCTYPE inside another's leftovers
        head = _DOCTYPE.sub(b"", head, count=1)
        if not _ENTITY_DECLARATION.search(head):
            return head + rest, "DTD with entity declarations ignored"
    return None, "refused: DTD with entity declarations"


def _bozo_reason(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if isinstance(exc, _BENIGN_BOZO):
        return None
    if isinstance(exc, feedparser.CharacterEncodingUnknown):
        return f"unknown encoding: {exc}"[:200]
    message = str(exc).removeprefix("<unknown>:") if exc is not None else "unknown error"
    return f"malformed XML: {message}"[:200]


def _entry_link(entry: Any, base: str, feed_language: str | None) -> DiscoveredLink | None:
    # the first rel=alternate href, as feedparser 6.0 lets a later rel=enclosure override entry.link
    url = http_url(_alternate_href(entry) or entry.get("link"), base)
    if url is None:
        return None
    title_detail = entry.get("title_detail") or {}
    return DiscoveredLink(
        url=url,
        title=_clean_title(entry.get("title"), title_detail.get("type", "")),
        published_at=_entry_date(entry),
        language=normalise_language(entry.get("language") or title_detail.get("language")) or feed_language,
        description=_clean_title(entry.get("summary"), (entry.get("summary_detail") or {}).get("type", "text/html")),
        author=_clean_title(entry.get("author"), ""),
        categories=tuple(t for tag in entry.get("tags") or () if (t := _clean_title(tag.get("term"), ""))),
    )


def _alternate_href(entry: Any) -> str | None:
    for link in entry.get("links") or ():
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    return None


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published", "updated", "created"):
        # plain dict lookups: FeedParserDict maps a missing "updated" to "published" with a warning
        struct = dict.get(entry, f"{key}_parsed")
        if struct:
            try:  # feedparser gives UTC struct_time
                return datetime(*struct[:6], tzinfo=UTC)
            except (TypeError, ValueError):
                pass
        fallback = parse_date(dict.get(entry, key))
        if fallback:
            return fallback
    return None


def _clean_title(title: str | None, media_type: str) -> str | None:
    if not title:
        return None
    if "html" in media_type:
        title = html.unescape(_TAG.sub(" ", title))
    title = _SPACES.sub(" ", title).strip()
    return title or None


def _unique(links: Any) -> list[DiscoveredLink]:
    seen: set[str] = set()
    kept = []
    for link in links:
        if link is not None and link.url not in seen:
            seen.add(link.url)
            kept.append(link)
    return kept


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lower()
    return b"<html" in head or b"<!doctype html" in head


def _is_json_feed(body: bytes, content_type: str | None) -> bool:
    if not body.lstrip().startswith(b"{"):
        return False
    return "json" in (content_type or "").lower() or b"jsonfeed.org" in body[:4096]


def _parse_json_feed(body: bytes, url: str) -> FeedResult:
    """JSON Feed 1.x (https://jsonfeed.org/version/1.1), which feedparser 6.0 does not read."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return FeedResult([], f"malformed JSON: {exc}"[:200])
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return FeedResult([], "not a feed (JSON without items)")
    feed_language = normalise_language(_text(document.get("language")))
    links = []
    for item in document["items"]:
        if not isinstance(item, dict):
            continue
        link = http_url(_text(item.get("url")) or _text(item.get("external_url")), url)
        if link is None:
            continue
        links.append(
            DiscoveredLink(
                url=link,
                title=_clean_title(_text(item.get("title")), "text/plain"),
                published_at=parse_date(_text(item.get("date_published")))
                or parse_date(_text(item.get("date_modified"))),
                language=normalise_language(_text(item.get("language"))) or feed_language,
            )
        )
    return FeedResult(_unique(links), None)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
