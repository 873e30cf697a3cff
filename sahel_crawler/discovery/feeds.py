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
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8

from sahel_crawler.text.dates import parse_date
from sahel_crawler.text.language_tags import normalise_language

__all__ = [
    "ENTITY_REFUSAL",
    "MAX_LINKS_PER_DOCUMENT",
    "DiscoveredLink",
    "FeedResult",
    "declares_entities",
    "http_url",
    "looks_like_feed",
    "normalise_language",
    "parse_date",
    "parse_feed",
]

_HTTP_SCHEMES = frozenset({"http", "https"})
# An absolute http(s) URL without whitespace or control characters (those take the urlsplit road).
_ABSOLUTE_HTTP = re.compile(r"https?://[^/?#\x00-\x20\x7f]+[^\x00-\x20\x7f]*\Z", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
# Where "<!ENTITY" is only text; an unterminated comment or section is not skipped (it hides nothing).
_COMMENTS_AND_CDATA = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>", re.DOTALL)
ENTITY_REFUSAL = "refused: DTD with entity declarations"
# The sitemaps protocol's cap on URLs, taken for any feed or sitemap document (SAHEL_MAX_LINKS_PER_DOCUMENT).
MAX_LINKS_PER_DOCUMENT = 50_000
# The start tag of an RSS item or an Atom entry (an RDF item too), namespace prefix or not.
_ENTRY_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")
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


def looks_like_feed(body: bytes, content_type: str | None) -> bool:
    """Cheap sniff: does this response look like an RSS, Atom, RDF or JSON feed?"""
    media = (content_type or "").lower()
    if any(kind in media for kind in _FEED_TYPES):
        return True
    head = body[:2048].replace(b"\x00", b"").lower()
    return any(marker in head for marker in _FEED_MARKERS)


def parse_feed(
    body: bytes, url: str, *, content_type: str | None = None, max_links: int = MAX_LINKS_PER_DOCUMENT
) -> FeedResult:
    """Parse a feed body fetched from ``url`` into the http(s) links it lists.

    Handles RSS 0.9x/1.0 (RDF)/2.0, Atom and JSON Feed through feedparser, tolerant of broken XML,
    honouring the byte order mark, the XML declaration and the HTTP ``content_type`` charset.
    At most ``max_links`` entries are read (with an ``error`` note when the feed lists more).
    Never raises: a broken but readable feed gives its links and an ``error``; an unusable one gives
    no links and the reason.
    """
    try:
        if not body or not body.strip():
            return FeedResult([], "empty document")
        if _is_json_feed(body, content_type):
            return _parse_json_feed(body, url, max_links)
        return _parse_xml_feed(body, url, content_type, max_links)
    except Exception as exc:  # a feed must never stop the crawl; report instead
        return FeedResult([], f"feed parser failed: {type(exc).__name__}: {exc}"[:300])


def _parse_xml_feed(body: bytes, url: str, content_type: str | None, max_links: int) -> FeedResult:
    # No content-location: feedparser would then urljoin every element (a quarter of its time); entry
    # links are resolved against ``url`` here instead, after any xml:base feedparser applied.
    headers = {"content-type": content_type} if content_type else {}
    if declares_entities(_as_parsed(body, headers)):
        return FeedResult([], ENTITY_REFUSAL)
    # Cut before the entry past the cap: feedparser's time grows with the number of entries.
    extra = _nth_match(_ENTRY_START, body, max_links)
    if extra is not None:
        body = body[:extra]
    # A BytesIO, never the bytes themselves: feedparser opens a bytes argument as a local file name.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,  # only titles and links are used: skip the costly HTML passes
        resolve_relative_uris=False,
    )
    feed_language = normalise_language(parsed.feed.get("language"))
    entries = parsed.entries[:max_links]
    links = _unique(_entry_link(entry, url, feed_language) for entry in entries)
    # the cut leaves the document unclosed: that is no fault of the feed's
    problem = None if extra is not None else _bozo_reason(parsed)
    if extra is not None or len(parsed.entries) > max_links:
        problem = _truncated(max_links)
    if not parsed.get("version") and not parsed.entries:
        reason = "not a feed"
        if _looks_like_html(body):
            reason += " (an HTML page)"
        elif problem:
            reason += f": {problem}"
        return FeedResult([], reason)
    return FeedResult(links, problem)


def declares_entities(text: bytes) -> bool:
    """True when ``text`` declares an entity anywhere outside comments and CDATA sections.

    Wherever a DOCTYPE stands (after a comment, past any prolog size), its entity declarations
    are what billion-laughs and XXE documents are made of, and no news feed or sitemap needs one.
    """
    if not _ENTITY_DECLARATION.search(text):
        return False
    return bool(_ENTITY_DECLARATION.search(_COMMENTS_AND_CDATA.sub(b"", text)))


def _as_parsed(body: bytes, headers: dict[str, str]) -> bytes:
    """The bytes feedparser hands to expat: its own UTF-8 conversion (so a UTF-16, UTF-7 or EBCDIC
    document is read as expat will read it), or the ASCII skeleton when no encoding fits."""
    converted = convert_to_utf8(dict(headers), body, feedparser.FeedParserDict())
    return converted.replace(b"\x00", b"")


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
        fallback = parse_date(dict.get(entry, key), utc=True)
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


def _parse_json_feed(body: bytes, url: str, max_links: int) -> FeedResult:
    """JSON Feed 1.x (https://jsonfeed.org/version/1.1), which feedparser 6.0 does not read."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return FeedResult([], f"malformed JSON: {exc}"[:200])
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return FeedResult([], "not a feed (JSON without items)")
    feed_language = normalise_language(_text(document.get("language")))
    links = []
    for item in document["items"][:max_links]:
        if not isinstance(item, dict):
            continue
        link = http_url(_text(item.get("url")) or _text(item.get("external_url")), url)
        if link is None:
            continue
        links.append(
            DiscoveredLink(
                url=link,
                title=_clean_title(_text(item.get("title")), "text/plain"),
                published_at=parse_date(_text(item.get("date_published")), utc=True)
                or parse_date(_text(item.get("date_modified")), utc=True),
                language=normalise_language(_text(item.get("language"))) or feed_language,
            )
        )
    return FeedResult(_unique(links), _truncated(max_links) if len(document["items"]) > max_links else None)


def _nth_match(pattern: re.Pattern[bytes], body: bytes, n: int) -> int | None:
    """Where the match after the first `n` of `pattern` starts in `body`, or None."""
    for index, match in enumerate(pattern.finditer(body)):
        if index == n:
            return match.start()
    return None


def _truncated(max_links: int) -> str:
    return f"truncated at {max_links} entries (the feed lists more)"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
