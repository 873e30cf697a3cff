"""Structured metadata the page declares: JSON-LD (schema.org) and Open Graph / meta tags."""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

from .nesting import flatten_json

log = logging.getLogger(__name__)

# Markup some CMSs leave in JSON-LD strings. Only formatting tags: a headline may legitimately
# quote a tag name ("hackers planted <script> tags"), which must survive as text.
_TAG = re.compile(r"</?(?:a|b|i|u|em|strong|span|br|p|div|sup|sub|mark|small|font)\b[^>]{0,500}>", re.I)
# XHTML pages wrap script bodies in CDATA markers (France 24, 2017).
_CDATA = re.compile(r"^\s*(?://\s*)?<!\[CDATA\[|\]\]>\s*$")

# schema.org types that describe a news or blog article.
ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "Report",
        "ScholarlyArticle",
        "TechArticle",
        "SocialMediaPosting",
        "WebPage",  # last resort: some outlets only declare the page
    }
)


@dataclass(frozen=True)
class PageMetadata:
    """What the page declares about itself; every field may be missing."""

    title: str | None = None  # JSON-LD headline
    og_title: str | None = None  # og:title / twitter:title, often suffixed with the site name
    author: str | None = None
    # declared publication dates as (source, raw string), most trusted first; source "jsonld" | "meta"
    dates: tuple[tuple[str, str], ...] = ()
    description: str | None = None
    canonical_url: str | None = None
    language: str | None = None
    article_body: str | None = None  # JSON-LD articleBody
    # JSON-LD isAccessibleForFree: False on a subscriber-only page, None when undeclared
    accessible_for_free: bool | None = None


def _text(value: Any) -> str | None:
    """A declared value as clean text: tags and entities removed, lists/objects reduced to their name."""
    if isinstance(value, str):
        if "<" in value or "&" in value:
            value = html.unescape(_TAG.sub(" ", value))
        value = " ".join(value.split())
        return value or None
    if isinstance(value, list):
        parts = [p for p in (_text(v) for v in value) if p]
        return ", ".join(dict.fromkeys(parts)) or None
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _walk(node: Any, depth: int = 0):
    """Yield every dict in a JSON-LD document (@graph, lists, nested mainEntity)."""
    if depth > 6:
        return
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, depth + 1)
    elif isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "hasPart"):
            if key in node:
                yield from _walk(node[key], depth + 1)


def _types(node: dict) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)}


def jsonld_article(tree: HtmlElement) -> dict[str, Any] | None:
    """The page's JSON-LD article object: the first true article type, else a WebPage."""
    best: dict[str, Any] | None = None
    for script in tree.iterfind(".//script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        raw = _CDATA.sub("", (script.text or "").strip())
        if not raw:
            continue
        flat = flatten_json(raw)
        if flat is not raw:
            script.text = flat  # trafilatura reads the block again for its own metadata
        try:
            doc = json.loads(flat, strict=False)
        except (ValueError, RecursionError):
            log.debug("unparseable JSON-LD block skipped")
            continue
        for node in _walk(doc):
            kinds = _types(node)
            if kinds & (ARTICLE_TYPES - {"WebPage"}):
                return node
            if best is None and "WebPage" in kinds:
                best = node
    return best


def _meta(tree: HtmlElement) -> dict[str, str]:
    """<meta property|name|itemprop=... content=...> as a lower-cased key → first value mapping."""
    found: dict[str, str] = {}
    for meta in tree.iterfind(".//meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop")
        content = meta.get("content")
        if key and content and content.strip():
            found.setdefault(key.strip().lower(), content.strip())
    return found


def _not_url(value: str | None) -> str | None:
    """Author meta tags often hold a profile URL instead of a name."""
    if value is None or value.startswith(("http://", "https://", "//", "/")):
        return None
    return value


def _declared_bool(value: Any) -> bool | None:
    """A schema.org Boolean as pages write it: true/false or the strings "True"/"False"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


_META_DATE_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "publishdate",
    "pubdate",
    "date",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
)


def page_metadata(tree: HtmlElement) -> PageMetadata:
    """Collect the page's declared metadata, JSON-LD first, then Open Graph and meta tags."""
    art = jsonld_article(tree) or {}
    meta = _meta(tree)

    dates: list[tuple[str, str]] = []
    if _text(art.get("datePublished")):
        dates.append(("jsonld", _text(art.get("datePublished"))))
    dates.extend(("meta", meta[key]) for key in _META_DATE_KEYS if key in meta)

    canonical = None
    for link in tree.iterfind(".//link"):
        if "canonical" in (link.get("rel") or "").lower().split() and (link.get("href") or "").strip():
            canonical = link.get("href").strip()
            break
    canonical = canonical or meta.get("og:url")

    html_lang = tree.get("lang") if tree.tag == "html" else None
    if html_lang is None:
        root = tree.getroottree().getroot()
        html_lang = root.get("lang") or root.get("xml:lang")
    language = (
        _text(art.get("inLanguage"))
        or (html_lang.strip() if html_lang and html_lang.strip() else None)
        or meta.get("og:locale")
        or meta.get("content-language")
    )

    body = art.get("articleBody")
    return PageMetadata(
        accessible_for_free=_declared_bool(art.get("isAccessibleForFree")),
        title=_text(art.get("headline")),
        og_title=meta.get("og:title") or meta.get("twitter:title"),
        author=_text(art.get("author")) or _not_url(meta.get("author")) or _not_url(meta.get("article:author")),
        dates=tuple(dates),
        description=_text(art.get("description")) or meta.get("og:description") or meta.get("description"),
        canonical_url=canonical,
        language=language,
        article_body=body.strip() if isinstance(body, str) and body.strip() else None,
    )
