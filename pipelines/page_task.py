"""The extraction stage's work on one page, as it runs in a worker process.

All the text work of a page: extraction, language detection, the duplicate fingerprints, the
keyword hits, the place hits and the folded search-index text. The crawler process runs Scrapy, the duplicate
index and the database writes on one interpreter lock, and it is what limits a crawl's speed;
everything that only needs the page's text is done here instead, on the other cores.

This module imports nothing from Scrapy, Twisted or SQLAlchemy, so each worker process holds only
trafilatura, the language profiles, the lexicon and the text helpers, not the crawler's libraries.
`pipelines.extract` sends the pages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from pipelines.language import DEFAULT_LANGUAGES, detect_language
from sahel_crawler.dedup.prints import TextPrints, text_prints
from sahel_crawler.extraction import (
    ExtractedArticle,
    ExtractionRules,
    FieldCaps,
    cap_article,
    extract_article,
    extract_or_reason,
)
from sahel_crawler.extraction.scoring import shingles
from sahel_crawler.lexicon import ConceptHit, Lexicon, flag_article
from sahel_crawler.places import Gazetteer, PlaceHit, find_places
from sahel_crawler.text.index import search_text
from storage.documents import contains_standfirst

# A standfirst whose shingles are at least this share in the body is not repeated before it.
STANDFIRST_WITHIN_SHARE = 0.5


def with_standfirst(text: str, standfirst: str | None) -> str:
    """The body led by its standfirst when the extractor left it out: the standfirst is part of
    the article (it often carries the key names), and flagging and search must see it. Only a
    lead shown on the page counts (ExtractedArticle.standfirst), never a meta description."""
    if not standfirst or contains_standfirst(text, standfirst) or _mostly_within(standfirst, text):
        return text
    return f"{standfirst.strip()}\n{text}"


def _mostly_within(part: str, text: str) -> bool:
    """True when most of `part`'s 4-word shingles are in `text`: the same words with other
    punctuation (a description repeating the body with "-" for "—") are already there."""
    wanted = shingles(part)
    total = sum(wanted.values())
    return total > 0 and sum((wanted & shingles(text)).values()) >= STANDFIRST_WITHIN_SHARE * total


@dataclass(frozen=True)
class ProcessedPage:
    """What the worker hands back for one page (small: the page itself stays in the worker)."""

    # the article, its text led by its visible standfirst; None when the page has no article text
    extracted: ExtractedArticle | None
    language: tuple[str, float] | None  # detected (code, probability), or None
    prints: TextPrints | None  # the text's duplicate fingerprints, for the dedup stage
    extract_ms: float  # CPU time of extraction in the worker
    language_ms: float  # CPU time of language detection in the worker
    prints_ms: float  # CPU time of the duplicate fingerprints in the worker
    keyword_hits: tuple[ConceptHit, ...] = ()  # flagged with the crawl's lexicon (none without one)
    # the search-index text (title, standfirst and body, folded as the lexicon folds)
    search_text: str | None = None
    keywords_ms: float = 0.0  # CPU time of keyword flagging and of the search text, in the worker
    no_text_reason: str | None = None  # why `extracted` is None, in words
    place_hits: tuple[PlaceHit, ...] = ()  # found with the crawl's gazetteer (none without one)
    places_ms: float = 0.0  # CPU time of place finding, in the worker


@dataclass(frozen=True)
class PageSettings:
    """The per-crawl settings a worker needs, sent once when it starts."""

    rules: dict[str, ExtractionRules]
    min_text_chars: int
    max_chars: int
    language_prefix_chars: int
    languages: tuple[str, ...] | None = DEFAULT_LANGUAGES  # None: every langdetect profile
    lexicon: Lexicon | None = None  # None: no keyword flagging
    caps: FieldCaps | None = None  # None: fields kept whole
    gazetteer: Gazetteer | None = None  # None: no place hits


_settings: PageSettings | None = None  # set in each worker by `init_worker`


def init_worker(settings: PageSettings) -> None:
    """Keep the crawl's settings and warm trafilatura and langdetect (profiles load on first use)."""
    global _settings
    _settings = settings
    warm = "<html><body><article><p>" + "Le Sahel est une région d'Afrique. " * 12 + "</p></article></body></html>"
    extract_article(warm, "http://localhost/warm-up")
    detect_language(
        "Le Sahel est une région d'Afrique de l'Ouest.", settings.language_prefix_chars, languages=settings.languages
    )


def process_page(
    html: str, url: str, outlet: str, title_hint: str | None = None, settings: PageSettings | None = None
) -> ProcessedPage:
    """Extract the article, detect its language, fingerprint its text for the dedup stage, flag
    its keywords and fold its search text. `title_hint` (a feed's or sitemap's title) stands in
    for a title the page lacks.

    `settings` defaults to the ones the worker was started with.
    """
    settings = settings or _settings
    assert settings is not None, "init_worker() was not called"
    start = time.process_time()
    extracted = extract_or_reason(html, url, rules=settings.rules.get(outlet), max_chars=settings.max_chars)
    extract_ms = (time.process_time() - start) * 1000
    if isinstance(extracted, str):
        return ProcessedPage(None, None, None, extract_ms, 0.0, 0.0, no_text_reason=extracted)
    if len(extracted.text) < settings.min_text_chars:
        length, least = len(extracted.text), settings.min_text_chars
        reason = f"article text of {length} characters, under SAHEL_MIN_TEXT_CHARS ({least})"
        return ProcessedPage(None, None, None, extract_ms, 0.0, 0.0, no_text_reason=reason)
    text = with_standfirst(extracted.text, extracted.standfirst)
    return _finished(replace(extracted, text=text, title=extracted.title or title_hint), extract_ms, settings)


def process_teaser(hints: dict[str, Any], settings: PageSettings) -> ProcessedPage:
    """What a feed entry says of an article whose page the outlet refused: its title, description
    (the text), author and date, with language, fingerprints and keywords as for a page."""
    title = hints.get("title")
    description = hints.get("description")
    extracted = ExtractedArticle(
        title=title,
        author=hints.get("author"),
        published_at=hints.get("published_at"),
        published_at_source="feed" if hints.get("published_at") else None,
        text=description or title or "",
        description=description,
        canonical_url=None,
        language_hint=hints.get("language"),
    )
    return _finished(extracted, 0.0, settings)


def _finished(extracted: ExtractedArticle, extract_ms: float, settings: PageSettings) -> ProcessedPage:
    """Language, duplicate fingerprints, keyword hits and search text of an extracted article
    (its fields cut to the crawl's caps first)."""
    if settings.caps is not None:
        extracted = cap_article(extracted, settings.caps)
    text = extracted.text
    start = time.process_time()
    language = detect_language(text, settings.language_prefix_chars, languages=settings.languages)
    language_ms = (time.process_time() - start) * 1000
    start = time.process_time()
    prints = text_prints(text)
    prints_ms = (time.process_time() - start) * 1000
    start = time.process_time()
    hits = tuple(flag_article(settings.lexicon, extracted.title, text)) if settings.lexicon is not None else ()
    indexed = search_text(extracted.title, extracted.description, text)
    keywords_ms = (time.process_time() - start) * 1000
    start = time.process_time()
    places = tuple(find_places(settings.gazetteer, extracted.title, text)) if settings.gazetteer is not None else ()
    places_ms = (time.process_time() - start) * 1000
    return ProcessedPage(
        extracted,
        language,
        prints,
        extract_ms,
        language_ms,
        prints_ms,
        hits,
        indexed,
        keywords_ms,
        place_hits=places,
        places_ms=places_ms,
    )
