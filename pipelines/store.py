"""Storage stage: write each finished item to the database and keep the crawl run's record."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from sqlalchemy.orm import Session, sessionmaker

from sahel_crawler.items import ArticleItem
from sahel_crawler.signals import page_failed
from sahel_crawler.sources import outlet_ids_from_setting, registry_from_settings
from sahel_crawler.text.fold import fold
from storage import repository as repo
from storage.db import open_database, session_factory
from storage.search import index_article, search_document

logger = logging.getLogger(__name__)

# Crawl-run counters and the Scrapy stats they come from.
RUN_COUNTERS_FROM_STATS = {
    "requests": "downloader/request_count",
    "pages_fetched": "response_received_count",
    "new_articles": "sahel/new_articles",
    "updated_articles": "sahel/updated_articles",
    "exact_duplicates": "sahel/exact_duplicates",
    "near_duplicates": "sahel/near_duplicates",
    "skipped_seen": "sahel/skipped_seen",
    "not_modified": "sahel/not_modified",
    "no_text": "sahel/no_text",
    "errors": "sahel/errors",
}


def record_from_item(item: ArticleItem) -> repo.ArticleRecord:
    """The storage record of a finished item."""
    return repo.ArticleRecord(
        url=item.canonical_url or item.url,
        outlet=item.outlet,
        text=item.text,
        fetched_at=item.fetched_at,
        title=item.title,
        author=item.author,
        published_at=item.published_at,
        published_at_source=item.published_at_source,
        description=item.description,
        language=item.language,
        language_prob=item.language_prob,
        text_hash=item.text_hash,
        discovered_via=item.discovered_via,
        aliases=list(item.aliases),
        duplicate_of_url=item.duplicate_of,
        signature=item.minhash,
        keyword_hits=list(item.keyword_hits),
        lexicon_version=item.lexicon_version,
    )


class StoragePipeline:
    """Upsert articles keyed on the canonical URL; open and close the crawl run record;
    record page-level failures reported by the spider.

    Settings: SAHEL_DB_URL, SAHEL_SOURCES_PATH, SAHEL_OUTLETS.
    """

    def __init__(self, db_url: str, outlets: dict[str, str], stats: Any) -> None:
        self.db_url = db_url
        self.outlets = outlets  # id -> name of the outlets this crawl covers
        self.stats = stats
        self.Session: sessionmaker[Session] | None = None
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoragePipeline:
        registry = registry_from_settings(crawler.settings)
        selected = registry.select(outlet_ids_from_setting(crawler.settings.get("SAHEL_OUTLETS")))
        pipeline = cls(crawler.settings["SAHEL_DB_URL"], {o.id: o.name for o in selected}, crawler.stats)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.page_failed, signal=page_failed)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        if spider is not None and getattr(spider, "outlets", None):
            self.outlets = {o.id: o.name for o in spider.outlets.values()}
        self.engine = open_database(self.db_url)
        self.Session = session_factory(self.engine)
        with self.Session.begin() as session:
            repo.ensure_outlets(session, self.outlets)
            self.run_id = repo.start_run(session, self.outlets)
        self.stats.set_value("sahel/run_id", self.run_id)
        logger.info("crawl run %s started for %s", self.run_id, ", ".join(self.outlets))

    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        assert self.Session is not None
        record = record_from_item(item)
        with self.Session.begin() as session:
            result = repo.save_article(session, record, self.run_id)
            if result.outcome != "unchanged":  # the index holds the text folded as the lexicon folds it
                document = search_document(record.title, record.description, record.text)
                index_article(session, result.article_id, fold(document).text)
        if result.outcome != "unchanged":
            self.stats.inc_value(f"sahel/{result.outcome}_articles")
        return item

    def page_failed(self, url: str, kind: str, reason: str, outlet: str | None = None) -> None:
        if self.Session is None:
            return
        with self.Session.begin() as session:
            repo.record_error(session, self.run_id, url=url, kind=kind, reason=reason, outlet=outlet)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.Session is None or self.run_id is None:
            return
        stats = self.stats.get_stats()
        counts = {name: stats.get(key, 0) for name, key in RUN_COUNTERS_FROM_STATS.items()}
        status = "finished" if reason == "finished" else "failed"
        with self.Session.begin() as session:
            repo.finish_run(session, self.run_id, status=status, reason=reason, counts=counts)
        self.engine.dispose()
        logger.info("crawl run %s %s (%s): %s", self.run_id, status, reason, counts)
