"""extract_article: body text and metadata of one decoded article page.

Strategy (each step measured with bench/extraction.py, see docs/extraction.md):
1. parse once with trafilatura's loader; read JSON-LD / Open Graph / meta declarations;
2. per-outlet rules: drop boilerplate selectors; a declared body selector wins when it matches;
3. otherwise trafilatura in precision mode, with metadata; when that keeps under
   SHORT_TEXT_CHARS characters (it sometimes keeps only a caption), trafilatura's default
   mode is tried and the longer text kept;
4. JSON-LD articleBody replaces a body that is missing or far shorter, if the page shows it;
5. a first line repeating the headline is dropped (the title is a field of its own).
"""

from __future__ import annotations

import logging
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urljoin

import trafilatura
from lxml.html import HtmlElement

from sahel_crawler.settings import SAHEL_EXTRACT_MAX_CHARS
from sahel_crawler.text.language_tags import normalise_language

from .controls import remove_control_characters
from .dates import declared_date, has_offset, htmldate_date, url_date
from .nesting import parse_html
from .rules import ExtractionRules, css_to_xpath
from .scoring import shingles
from .structured import PageMetadata, page_metadata

log = logging.getLogger(__name__)

# Pages are cut to this many characters before parsing: article pages are far smaller, and
# lxml's cost grows with the input.
MAX_HTML_CHARS = SAHEL_EXTRACT_MAX_CHARS
# Under this many characters the precision-mode text is suspect and default mode is tried too.
SHORT_TEXT_CHARS = 300
# JSON-LD articleBody replaces the extracted body when the body is shorter than this share of it.
ARTICLE_BODY_MIN_SHARE = 0.5
# ... and when at least this share of its 4-token shingles is visible on the page.
ARTICLE_BODY_VISIBLE_SHARE = 0.8
# Under this many characters a page holds no article (a nav label, a caption, a consent notice).
MIN_TEXT_CHARS = 50

# trafilatura options common to every call (comments are never article text).
BASE_OPTIONS: dict = {
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "deduplicate": False,
}
PRIMARY_OPTIONS: dict = {**BASE_OPTIONS, "favor_precision": True}
RETRY_OPTIONS: dict = {**BASE_OPTIONS}

_BLOCKS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption", "td")


@dataclass(frozen=True)
class ExtractedArticle:
    """The article as the extraction stage sees it."""

    title: str | None
    author: str | None
    published_at: datetime | None  # timezone-aware, UTC
    published_at_source: str | None  # "rule" | "jsonld" | "meta" | "url" | "htmldate"
    text: str  # paragraphs separated by "\n"
    description: str | None  # standfirst / og:description
    canonical_url: str | None  # <link rel=canonical> or og:url, absolute, not validated
    language_hint: str | None  # primary language subtag declared by the page ("ar", "fr", "en")
    # the publisher's calendar day of publication (in the page's own time zone when it declares one)
    published_on: date | None = None
    # the lead paragraph shown on the page (a chapô), not a description written for search engines
    standfirst: str | None = None
    # the page declares itself subscriber-only (JSON-LD isAccessibleForFree, outlet paywall markup)
    paywalled: bool = False


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _absolute(href: str | None, base: str) -> str | None:
    if not href:
        return None
    try:
        return urljoin(base, href.strip()) or None
    except ValueError:
        return None


def _select(tree: HtmlElement, selector: str | None) -> list[HtmlElement]:
    return tree.xpath(css_to_xpath(selector)) if selector else []


def _first_text(tree: HtmlElement, selector: str | None) -> str | None:
    for node in _select(tree, selector):
        text = _clean(node.text_content())
        if text:
            return text
    return None


def _all_text(tree: HtmlElement, selector: str | None) -> str | None:
    """The distinct texts of every match, joined (an article may have several bylines)."""
    texts = [t for node in _select(tree, selector) if (t := _clean(node.text_content()))]
    return ", ".join(dict.fromkeys(texts)) or None


def _standfirst(tree: HtmlElement, meta: PageMetadata, rules: ExtractionRules) -> str | None:
    """The outlet's chapô element, else the declared description when the page shows it as text."""
    lead = _first_text(tree, rules.standfirst_selector)
    if lead:
        return lead
    if meta.description and _shown(meta.description, tree):
        return meta.description
    return None


def _paywalled(tree: HtmlElement, meta: PageMetadata, rules: ExtractionRules) -> bool:
    return meta.accessible_for_free is False or bool(_select(tree, rules.paywall_selector))


def _rule_date(tree: HtmlElement, selector: str | None) -> datetime | None:
    for node in _select(tree, selector):
        for raw in (node.get("datetime"), node.get("content"), node.text_content()):
            value = declared_date(raw)
            if value is not None:
                return value
    return None


def _drop(tree: HtmlElement, selectors: tuple[str, ...]) -> None:
    for selector in selectors:
        for junk in _select(tree, selector):
            if junk.getparent() is not None:
                junk.drop_tree()


def _selector_body(tree: HtmlElement, rules: ExtractionRules) -> str:
    """Text of the outlet's declared body element, one line per block (tree already pruned)."""
    lines: list[str] = []
    for node in _select(tree, rules.body_selector):
        for junk in node.xpath(".//script|.//style|.//noscript|.//template|.//iframe"):
            junk.drop_tree()
        blocks = [b for b in node.iter(*_BLOCKS) if not any(a.tag in _BLOCKS for a in b.iterancestors())]
        texts = [_clean(b.text_content()) for b in blocks] if blocks else [_clean(node.text_content())]
        lines.extend(t for t in texts if t)
    return "\n".join(lines)


def _visible_text(tree: HtmlElement) -> str:
    body = tree.find(".//body")
    root = body if body is not None else tree
    parts = []
    for node in root.iter():
        if node.tag in ("script", "style", "noscript", "template") or not isinstance(node.tag, str):
            continue
        if node.text:
            parts.append(node.text)
        if node.tail:
            parts.append(node.tail)
    return " ".join(parts)


def _article_body(text: str, meta: PageMetadata, tree: HtmlElement) -> str:
    """JSON-LD articleBody when the extracted body is missing or far shorter and the page shows it."""
    body = meta.article_body
    if not body or len(text) >= ARTICLE_BODY_MIN_SHARE * len(body):
        return text
    return body if _shown(body, tree) else text


def _shown(text: str, tree: HtmlElement) -> bool:
    """True when most of `text` is visible on the page (not only in scripts or metadata)."""
    wanted = shingles(text)
    total = sum(wanted.values())
    if not total:
        return False
    return sum((wanted & shingles(_visible_text(tree))).values()) >= ARTICLE_BODY_VISIBLE_SHARE * total


def _drop_title_line(text: str, titles: list[str | None]) -> str:
    """Remove a first line that only repeats the headline."""
    first, _, rest = text.partition("\n")
    first_norm = " ".join(first.split()).casefold()
    for title in titles:
        norm = " ".join((title or "").split()).casefold()
        if norm and rest and (first_norm == norm or (len(first_norm) > 15 and norm.startswith(first_norm))):
            return rest
    return text


def _parse_day(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.strptime(raw[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def _resolve_date(
    tree: HtmlElement, url: str, meta: PageMetadata, rules: ExtractionRules, found: str | None
) -> tuple[datetime | None, str | None]:
    """Most trustworthy publication date first: outlet rule, JSON-LD, meta, URL, htmldate
    (JSON-LD before the rule when the outlet says `date_after_jsonld`)."""
    rule = _rule_date(tree, rules.date_selector)
    value, source = _declared(meta)
    if rule is not None and not (rules.date_after_jsonld and source == "jsonld"):
        return rule, "rule"
    if value is not None:
        return value, source
    value = url_date(url)
    if value is not None:
        return value, "url"
    # trafilatura already ran htmldate for its metadata; only run it again when it did not.
    value = _parse_day(found) if found is not None else htmldate_date(tree, url)
    if value is not None:
        return value, "htmldate"
    return None, None


def _generic_body(tree: HtmlElement, url: str) -> str:
    """trafilatura in precision mode; default mode too when precision keeps almost nothing."""
    doc = trafilatura.bare_extraction(tree, url=url or None, **PRIMARY_OPTIONS)
    text = ((doc.text if doc is not None else None) or "").strip()
    if len(text) < SHORT_TEXT_CHARS:
        retry = trafilatura.bare_extraction(tree, url=url or None, **RETRY_OPTIONS)
        retry_text = ((retry.text if retry is not None else None) or "").strip()
        # default mode's last resort may return JSON-LD articleBody unchecked: keep only what is shown
        if len(retry_text) > len(text) and _shown(retry_text, tree):
            text = retry_text
    return text


def _declared(meta: PageMetadata) -> tuple[datetime | None, str | None]:
    """First declared date that carries a UTC offset, else the first that parses.

    Some pages give a naive local time in JSON-LD and the same time with its offset in a meta tag.
    """
    parsed = [(value, source, raw) for source, raw in meta.dates if (value := declared_date(raw)) is not None]
    for value, source, raw in parsed:
        if has_offset(raw):
            return value, source
    return (parsed[0][0], parsed[0][1]) if parsed else (None, None)


def _declared_date(url: str, meta: PageMetadata) -> bool:
    return _declared(meta)[0] is not None or url_date(url) is not None


def _extract(html: str, url: str, rules: ExtractionRules, max_chars: int) -> ExtractedArticle | str:
    tree = parse_html(remove_control_characters(html[:max_chars]))
    if tree is None:
        return "the page does not parse as HTML"
    meta = page_metadata(tree)
    paywalled = _paywalled(tree, meta, rules)
    if rules.drop_selectors:
        tree = deepcopy(tree)
        _drop(tree, rules.drop_selectors)

    text = _selector_body(deepcopy(tree), rules) if rules.body_selector else ""
    if not text:
        text = _generic_body(tree, url)
    text = _article_body(text, meta, tree)
    if len(text.strip()) < MIN_TEXT_CHARS:
        return f"no article text found ({len(text.strip())} characters of body)"

    rule_title = _first_text(tree, rules.title_selector)
    rule_author = _all_text(tree, rules.author_selector)
    doc = None
    if not (rule_title or meta.title) or not (rule_author or meta.author) or not _declared_date(url, meta):
        # trafilatura's metadata heuristics (title, byline, htmldate) cost about as much as the body
        # extraction itself, so they only run for what the page does not declare.
        doc = trafilatura.extract_metadata(tree, default_url=url or None)
    doc_title = _clean(doc.title) if doc is not None else None
    title = rule_title or meta.title or doc_title or meta.og_title
    text = _drop_title_line(text, [rule_title, meta.title, doc_title, meta.og_title])

    declared, source = _resolve_date(tree, url, meta, rules, doc.date if doc is not None else None)
    return ExtractedArticle(
        title=title,
        author=rule_author or meta.author or _clean(doc.author if doc else None),
        published_at=declared.astimezone(UTC) if declared else None,
        published_at_source=source,
        text=text,
        description=meta.description or _clean(doc.description if doc else None),
        canonical_url=_absolute(meta.canonical_url, url),
        language_hint=normalise_language(meta.language),
        published_on=declared.date() if declared else None,
        standfirst=_standfirst(tree, meta, rules),
        paywalled=paywalled,
    )


def extract_article(
    html: str, url: str, *, rules: ExtractionRules | None = None, max_chars: int = MAX_HTML_CHARS
) -> ExtractedArticle | None:
    """Extract an article from a decoded page; None when the page holds no article text.

    `html` must be the decoded page (`response.text`), never bytes. Input beyond `max_chars`
    characters is cut. Never raises (see `extract_or_reason`).
    """
    article = extract_or_reason(html, url, rules=rules, max_chars=max_chars)
    return article if isinstance(article, ExtractedArticle) else None


def extract_or_reason(
    html: str, url: str, *, rules: ExtractionRules | None = None, max_chars: int = MAX_HTML_CHARS
) -> ExtractedArticle | str:
    """`extract_article`, with the reason in words instead of None when the page holds no text.

    Never raises: a page that defeats the parser gives the exception as its reason.
    """
    if not isinstance(html, str) or not html.strip():
        return "empty page"
    try:
        return _extract(html, url or "", rules or ExtractionRules(), max_chars)
    except Exception as exc:  # one hostile page must never stop the crawl
        log.debug("extraction failed on %s", url, exc_info=True)
        return f"the extractor failed: {type(exc).__name__}: {exc}"[:300]
