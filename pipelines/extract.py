"""Extraction stage: body text and metadata of the article page, via trafilatura."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from sahel_crawler.extraction import ExtractionRules, extract_article
from sahel_crawler.items import ArticleItem
from sahel_crawler.sources import registry_from_settings


def with_standfirst(text: str, standfirst: str | None) -> str:
    """The body led by its standfirst when the extractor left it out: the standfirst is part of
    the article (it often carries the key names), and flagging and search must see it."""
    if not standfirst:
        return text
    head = " ".join(standfirst.split())[:60].rstrip(".…")
    if not head or head in " ".join(text.split()):
        return text
    return f"{standfirst.strip()}\n{text}"


class NoArticleText(DropItem):
    """A page without article text: counted, not stored."""


class ExtractionPipeline:
    """Fill title, author, date, body and description of each item; drop pages with no text.

    Settings: SAHEL_SOURCES_PATH (per-outlet `extraction:` rules), SAHEL_EXTRACT_MAX_CHARS, SAHEL_MIN_TEXT_CHARS
    (a shorter body is page chrome, e.g. a video page's caption, not an article).
    Feed and sitemap dates are fallbacks when the page itself carries no date.
    """

    def __init__(
        self, rules: dict[str, ExtractionRules], stats: Any, min_text_chars: int = 200, max_chars: int = 2_000_000
    ) -> None:
        self.rules = rules
        self.stats = stats
        self.min_text_chars = min_text_chars
        self.max_chars = max_chars

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractionPipeline:
        registry = registry_from_settings(crawler.settings)
        rules = {o.id: o.extraction for o in registry.outlets.values()}
        settings = crawler.settings
        return cls(
            rules,
            crawler.stats,
            min_text_chars=settings.getint("SAHEL_MIN_TEXT_CHARS", 200),
            max_chars=settings.getint("SAHEL_EXTRACT_MAX_CHARS", 2_000_000),
        )

    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        extracted = extract_article(
            item.html, item.url, rules=self.rules.get(item.outlet), max_chars=self.max_chars
        )
        if extracted is None or len(extracted.text) < self.min_text_chars:
            self.stats.inc_value("sahel/no_text")
            raise NoArticleText(f"no article text on {item.url}")
        item.title = extracted.title or item.hints.get("title")
        item.author = extracted.author
        item.text = with_standfirst(extracted.text, extracted.description)
        item.description = extracted.description
        item.hints.setdefault("canonical_url", extracted.canonical_url)
        item.hints.setdefault("language_hint", extracted.language_hint)
        if extracted.published_at is not None:
            item.published_at, item.published_at_source = extracted.published_at, extracted.published_at_source
        elif item.hints.get("published_at") is not None:
            item.published_at, item.published_at_source = item.hints["published_at"], item.discovered_via
        item.html = ""  # the page is no longer needed: keep memory flat on long crawls
        return item
