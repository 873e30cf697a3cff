"""Run one crawl in this process: Scrapy's reactor cannot restart, so one crawl per process."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from pipelines.language import detect_languages_setting
from sahel_crawler.middlewares import allowed_private_hosts
from sahel_crawler.setting_types import check_setting_types
from sahel_crawler.sources import load_registry
from storage.db import open_database


def crawl_settings(
    *,
    db_url: str | None = None,
    sources_path: str | None = None,
    outlets: Sequence[str] = (),
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """The project's Scrapy settings with this crawl's choices on top."""
    settings = Settings()
    settings.setmodule("sahel_crawler.settings", priority="project")
    if db_url:
        settings.set("SAHEL_DB_URL", db_url, priority="cmdline")
    if sources_path:
        settings.set("SAHEL_SOURCES_PATH", str(sources_path), priority="cmdline")
    if outlets:
        settings.set("SAHEL_OUTLETS", list(outlets), priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def check_crawl_inputs(settings: Settings) -> list[str]:
    """Fail early, with a one-line reason, on a bad sources file, outlet, database or setting;
    return the ids of the outlets the crawl covers.

    Raises RegistryError or ValueError (bad configuration) or DatabaseError (database unusable).
    """
    check_setting_types(settings)
    detect_languages_setting(settings)
    registry = load_registry(settings.get("SAHEL_SOURCES_PATH") or None)
    outlets = registry.select(settings.getlist("SAHEL_OUTLETS"))
    allowed_private_hosts(settings)
    open_database(settings["SAHEL_DB_URL"]).dispose()
    return [o.id for o in outlets]


def run_crawl(settings: Settings, spider: str = "news") -> dict[str, Any]:
    """Crawl with the `news` spider (or `backfill`) until done; return the crawl's Scrapy stats."""
    process = CrawlerProcess(settings)
    # By name, not as a Crawler object: Scrapy lays the process's settings again over a Crawler
    # it is given, undoing what the spider's update_settings added to a `-s` dict setting.
    process.crawl(spider)
    (crawler,) = process.crawlers
    process.start()
    return dict(crawler.stats.get_stats())
