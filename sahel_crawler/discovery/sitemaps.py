"""Sitemap discovery: urlsets, sitemap indexes, Google News sitemaps, gzip and plain-text sitemaps.

Scrapy's own sitemap reader drops the Google News fields (``news:title``, ``news:publication_date``,
``news:language``), so this module reads sitemaps with lxml itself, through a hardened parser: no
entity resolution, no network, no DTD loading, no huge trees. A document that declares entities
anywhere (outside comments and CDATA) is refused outright, before parsing (XXE, billion laughs).
Gzip is detected by its magic bytes and decompressed under a cap. Truncated or broken XML gives
the complete entries before the damage and an ``error``.

Pure functions, bytes in and results out; bad input never raises.
"""

from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lxml import etree

from .feeds import (
    ENTITY_REFUSAL,
    MAX_LINKS_PER_DOCUMENT,
    DiscoveredLink,
    declares_entities,
    http_url,
    normalise_language,
    parse_date,
)

__all__ = ["MAX_SITEMAP_BYTES", "MAX_SITEMAP_URLS", "SitemapResult", "looks_like_sitemap", "parse_sitemap"]

# The sitemaps protocol caps a sitemap at 50 MB uncompressed and 50,000 URLs.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
MAX_SITEMAP_URLS = MAX_LINKS_PER_DOCUMENT

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1024 * 1024
_BOMS = (b"\xef\xbb\xbf",)
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")
# A bare "&" (not starting an entity or character reference): common in real sitemaps' query strings
# and fatal to a strict XML parser, while recovery mode would silently drop the "&name" that follows.
_BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z_][\w.-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")
_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "attribute_defaults": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    "collect_ids": False,
}
_KINDS = ("urlset", "sitemapindex")
# Both entry kinds are taken under either root: some sites mix <sitemap> into a <urlset>.
_ENTRY_TAGS = ("{*}url", "{*}sitemap")


@dataclass(frozen=True)
class SitemapResult:
    """What a sitemap lists: pages (``urlset``) or child sitemaps (``sitemapindex``)."""

    kind: str  # "urlset" | "sitemapindex" | "invalid"
    links: list[DiscoveredLink] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    error: str | None = None


def looks_like_sitemap(body: bytes, content_type: str | None = None) -> bool:
    """Cheap sniff: does this response look like an XML sitemap or sitemap index (gzipped or not)?"""
    head = body[:4096]
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, 4096)
        except zlib.error:
            return False
    head = head.replace(b"\x00", b"").lower()
    return b"<urlset" in head or b"<sitemapindex" in head


def parse_sitemap(
    body: bytes, url: str, *, max_urls: int = MAX_SITEMAP_URLS, max_bytes: int = MAX_SITEMAP_BYTES
) -> SitemapResult:
    """Parse a sitemap body fetched from ``url``.

    ``urlset`` gives page links with ``lastmod`` and the Google News fields (``news:title``,
    ``news:publication_date`` preferred over ``lastmod``, ``news:language``); ``sitemapindex`` gives child
    sitemap URLs. Only http(s) URLs are kept, resolved against ``url``. Namespaces are matched leniently
    (by local name). At most ``max_urls`` entries are returned (with an ``error`` note when more were
    listed); bodies above ``max_bytes`` (after gunzip) are refused. Never raises.
    """
    try:
        return _parse(body, url, max_urls, max_bytes)
    except Exception as exc:  # a sitemap must never stop the crawl; report instead
        return SitemapResult("invalid", error=f"sitemap parser failed: {type(exc).__name__}: {exc}"[:300])


def _parse(body: bytes, url: str, max_urls: int, max_bytes: int) -> SitemapResult:
    notes: list[str] = []
    if body.startswith(_GZIP_MAGIC):
        body, gzip_note = _gunzip(body, max_bytes)
        if gzip_note:
            notes.append(gzip_note)
        if body is None:
            return SitemapResult("invalid", error="; ".join(notes))
    elif len(body) > max_bytes:
        return SitemapResult("invalid", error=f"refused: larger than {max_bytes} bytes")
    body = _tidy(body)
    if not body.strip():
        return SitemapResult("invalid", error=_join(notes, "empty document"))
    if _is_plain_text(body):
        return _parse_text(body, url, max_urls, notes)
    if declares_entities(body.replace(b"\x00", b"") if b"\x00" in body[:4] else body):
        return SitemapResult("invalid", error=_join(notes, ENTITY_REFUSAL))

    collector = _Collector(url, max_urls)
    problem = _run(body, collector, recover=False)
    if problem is not None and not collector.stopped:
        # Strict parsing stopped at the damage: re-read in recovery mode for entries past it, keeping
        # only elements whose end tag was really seen (not those libxml2 closes itself at end of data).
        recovered = _Collector(url, max_urls)
        _run(body, recovered, recover=True)
        if collector.kind is None or (recovered.kind == collector.kind and recovered.count > collector.count):
            collector = recovered
        notes.append(f"malformed XML: {problem}"[:200])
    if collector.refusal:
        return SitemapResult("invalid", error=_join(notes, collector.refusal))
    if collector.kind not in _KINDS:
        found = f" (root element <{collector.kind}>)" if collector.kind else ""
        return SitemapResult("invalid", error=_join(notes, f"not a sitemap{found}"))
    if collector.truncated:
        notes.append(f"truncated at {max_urls} URLs (the sitemap lists more)")
    return SitemapResult(collector.kind, collector.links, collector.sitemaps, "; ".join(notes) or None)


def _join(notes: list[str], last: str) -> str:
    return "; ".join([*notes, last])


def _gunzip(data: bytes, limit: int) -> tuple[bytes | None, str | None]:
    """Decompress gzip (also multi-member) holding at most ``limit`` bytes of output: bombs are refused."""
    chunks: list[bytes] = []
    size = 0
    decompressor = zlib.decompressobj(wbits=31)
    pending = data
    note = None
    try:
        while pending:
            # max_length stays >= 1 here (0 would mean "unlimited")
            chunk = decompressor.decompress(pending, min(_CHUNK, limit + 1 - size))
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return None, f"refused: gzip expands beyond {limit} bytes"
            if decompressor.eof:
                pending = decompressor.unused_data
                if not pending.startswith(_GZIP_MAGIC):
                    break  # trailing padding after the last member
                decompressor = zlib.decompressobj(wbits=31)
            else:
                pending = decompressor.unconsumed_tail
        if not decompressor.eof:
            note = "truncated gzip"
    except zlib.error as exc:
        note = f"corrupt gzip: {exc}"
    if not size:
        return None, note or "empty gzip"
    return b"".join(chunks), note


def _tidy(body: bytes) -> bytes:
    """Undo the commonest sloppiness before an XML parser sees it (whitespace before the XML
    declaration, bare ampersands); wide encodings are left to lxml."""
    if body.startswith(_WIDE_BOMS) or b"\x00" in body[:4]:
        return body
    for bom in _BOMS:
        body = body.removeprefix(bom)
    body = body.lstrip()
    if b"&" in body:
        body = _BARE_AMPERSAND.sub(b"&amp;", body)
    return body


def _is_plain_text(body: bytes) -> bool:
    return not body.startswith(b"<") and not body.startswith(_WIDE_BOMS) and b"\x00" not in body[:4]


def _parse_text(body: bytes, url: str, max_urls: int, notes: list[str]) -> SitemapResult:
    """The protocol's plain-text sitemap: one URL per line, UTF-8."""
    links: list[DiscoveredLink] = []
    seen: set[str] = set()
    for line in body.decode("utf-8", "replace").splitlines():
        line = line.strip()
        link = http_url(line, url) if line[:8].lower().startswith(("http://", "https://")) else None
        if link is None or link in seen:
            continue
        if len(links) >= max_urls:
            notes.append(f"truncated at {max_urls} URLs (the sitemap lists more)")
            break
        seen.add(link)
        links.append(DiscoveredLink(url=link))
    if not links:
        return SitemapResult("invalid", error=_join(notes, "not a sitemap (no XML, no URL lines)"))
    return SitemapResult("urlset", links, [], "; ".join(notes) or None)


def _run(body: bytes, collector: _Collector, *, recover: bool) -> str | None:
    """Feed ``body`` to a hardened pull parser, handing entries to ``collector``; return the XML error."""
    parser = etree.XMLPullParser(events=("end",), tag=_ENTRY_TAGS, recover=recover, **_PARSER_OPTIONS)
    try:
        for start in range(0, len(body), _CHUNK):
            parser.feed(body[start : start + _CHUNK])
            collector.consume(parser.read_events())
            if collector.stopped:
                return None
        parser.feed(_newline(body))  # let the push parser finish the last end tag it has seen
        collector.consume(parser.read_events())
        if collector.stopped:
            return None
        root = parser.close()
        if not recover:  # in recovery, entries closed now were cut off by the end of data
            collector.consume(parser.read_events())
        collector.finish(root)
    except etree.XMLSyntaxError as exc:
        if not recover:
            collector.consume(parser.read_events())
        return _xml_message(exc)
    return None


def _newline(body: bytes) -> bytes:
    """A line break in the document's own encoding (one byte would be invalid UTF-16)."""
    if body.startswith((codecs.BOM_UTF16_LE, b"<\x00")):
        return "\n".encode("utf-16-le")
    if body.startswith((codecs.BOM_UTF16_BE, b"\x00<")):
        return "\n".encode("utf-16-be")
    return b"\n"


def _xml_message(exc: etree.XMLSyntaxError) -> str:
    message = (exc.msg or str(exc)).strip()
    return f"{message} (line {exc.lineno})" if exc.lineno else message


@lru_cache(maxsize=256)
def _local(tag: str) -> str:
    """Local name, whatever the namespace (declared, varied, or an undeclared ``prefix:``)."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


class _Collector:
    """Turns entry elements into links, clearing the tree as it goes to bound memory."""

    def __init__(self, base: str, max_urls: int) -> None:
        self.base = base
        self.max_urls = max_urls
        self.kind: str | None = None
        self.root: Any = None
        self.refusal: str | None = None
        self.truncated = False
        self.links: list[DiscoveredLink] = []
        self.sitemaps: list[str] = []
        self.seen: set[str] = set()

    @property
    def count(self) -> int:
        return len(self.links) + len(self.sitemaps)

    @property
    def stopped(self) -> bool:
        return self.truncated or self.refusal is not None or (self.kind is not None and self.kind not in _KINDS)

    def consume(self, events: Any) -> None:
        for _, element in events:
            if self.root is None:
                self._begin(element.getroottree().getroot())
            if self.stopped:
                return
            # entries are the root's children; nested look-alikes are not
            if element.getparent() is not self.root:
                continue
            self._entry(element, _local(element.tag))
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del self.root[0]

    def finish(self, root: Any) -> None:
        """Note the root of a document in which no entry was seen."""
        if self.root is None and root is not None:
            self._begin(root)

    def _begin(self, root: Any) -> None:
        self.root = root
        self.kind = _local(root.tag)
        dtd = root.getroottree().docinfo.internalDTD
        if dtd is not None and any(True for _ in dtd.iterentities()):
            self.refusal = ENTITY_REFUSAL  # in an encoding the byte scan could not read

    def _entry(self, element: Any, name: str) -> None:
        fields: dict[str, str] = {}
        for child in element.iterchildren(tag=etree.Element):
            tag = _local(child.tag)
            if tag == "news":  # Google News: <news:news><news:publication><news:language/>...
                for node in child.iter(tag=etree.Element):
                    fields.setdefault(f"news:{_local(node.tag)}", _text(node))
            else:
                fields.setdefault(tag, _text(child))
        url = http_url(fields.get("loc"), self.base)
        if url is None or url in self.seen:
            return
        if self.count >= self.max_urls:
            self.truncated = True
            return
        self.seen.add(url)
        if name == "sitemap":
            self.sitemaps.append(url)
            return
        self.links.append(
            DiscoveredLink(
                url=url,
                title=fields.get("news:title") or None,
                published_at=parse_date(fields.get("news:publication_date"), utc=True)
                or parse_date(fields.get("lastmod"), utc=True),
                language=normalise_language(fields.get("news:language")),
            )
        )


def _text(element: Any) -> str:
    return " ".join((element.text or "").split())
