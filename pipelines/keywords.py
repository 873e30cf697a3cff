"""Keyword stage: flag each article with the concepts of the lexicon it mentions.

Settings:
    SAHEL_KEYWORDS_ENABLED  False disables the stage (NotConfigured).
    SAHEL_LEXICON_PATH      lexicon YAML file; None means the bundled lexicon.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from sahel_crawler.items import ArticleItem
from sahel_crawler.lexicon import Lexicon, flag_article, load_lexicon


class KeywordPipeline:
    """Sets `keyword_hits` and `lexicon_version` on every `ArticleItem`.

    The lexicon is loaded and its automaton built once, when the crawl starts; a lexicon that
    does not validate stops the crawl before any page is fetched.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KeywordPipeline:
        """Build the stage from the crawler's settings."""
        if not crawler.settings.getbool("SAHEL_KEYWORDS_ENABLED", True):
            raise NotConfigured("SAHEL_KEYWORDS_ENABLED is off")
        return cls(load_lexicon(crawler.settings.get("SAHEL_LEXICON_PATH") or None))

    def process_item(self, item: Any, spider: Any = None) -> Any:
        """Flag an article's title and text; other items pass through untouched."""
        if isinstance(item, ArticleItem):
            hits = flag_article(self.lexicon, item.title, item.text)
            item.keyword_hits = [dataclasses.asdict(hit) for hit in hits]
            item.lexicon_version = self.lexicon.version
        return item
