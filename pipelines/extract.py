"""Extraction stage: body text and metadata of the article page, via trafilatura."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from sahel_crawler.extraction import ExtractionRules, extract_article
from sahel_crawler.items import ArticleItem
from sahel_crawler.sources import registry_from_settings


class NoArticleText(DropItem):
    """A page without article text: counted, not stored."""


class ExtractionPipeline:
    """Fill title, author, date, body and description of each item; drop pages with no text.

    Settings: SAHEL_SOURCES_PATH (for per-outlet `extraction:` rules).
    Feed and sitemap dates are fallbacks when the page itself carries no date.
    """

    def __init__(self, rules: dict[str, ExtractionRules], stats: Any) -> None:
        self.rules = rules
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractionPipeline:
        registry = registry_from_settings(crawler.settings)
        rules = {o.id: ExtractionRules.from_mapping(o.extraction) for o in registry.outlets.values()}
        return cls(rules, crawler.stats)

    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        extracted = extract_article(item.html, item.url, rules=self.rules.get(item.outlet))
        if extracted is None:
            self.stats.inc_value("sahel/no_text")
            raise NoArticleText(f"no article text on {item.url}")
        item.title = extracted.title or item.hints.get("title")
        item.author = extracted.author
        item.text = extracted.text
        item.description = extracted.description
        item.hints.setdefault("canonical_url", extracted.canonical_url)
        item.hints.setdefault("language_hint", extracted.language_hint)
        if extracted.published_at is not None:
            item.published_at, item.published_at_source = extracted.published_at, extracted.published_at_source
        elif item.hints.get("published_at") is not None:
            item.published_at, item.published_at_source = item.hints["published_at"], item.discovered_via
        item.html = ""  # the page is no longer needed: keep memory flat on long crawls
        return item
