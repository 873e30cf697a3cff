"""Run one crawl in this process: Scrapy's reactor cannot restart, so one crawl per process."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from sahel_crawler.middlewares import allowed_private_hosts
from sahel_crawler.setting_types import check_setting_types
from sahel_crawler.sources import Outlet, load_registry
from sahel_crawler.text.language import detect_languages_setting
from storage.db import shared_engine


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


@contextmanager
def checked_crawl_inputs(settings: Settings) -> Iterator[list[Outlet]]:
    """Fail early, with a one-line reason, on a bad sources file, outlet, database or setting;
    yield the outlets the crawl covers, holding the database's shared engine for the block, so
    that a crawl run inside it opens no other.

    Raises RegistryError or ValueError (bad configuration) or DatabaseError (database unusable).
    """
    check_setting_types(settings)
    detect_languages_setting(settings)
    registry = load_registry(settings.get("SAHEL_SOURCES_PATH") or None)
    outlets = registry.select(settings.getlist("SAHEL_OUTLETS"))
    allowed_private_hosts(settings)
    with shared_engine(settings["SAHEL_DB_URL"]):
        yield list(outlets)


def run_crawl(settings: Settings, spider: str = "news") -> dict[str, Any]:
    """Crawl with the `news` spider (or `backfill`) until done; return the crawl's Scrapy stats."""
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider)
    process.crawl(crawler)
    process.start()
    return dict(crawler.stats.get_stats())


def crawl_started(stats: Mapping[str, Any]) -> bool:
    """Whether Scrapy opened the spider (a crawl that never started has no summary)."""
    return stats.get("finish_reason") is not None or "start_time" in stats


def crawl_failure(stats: Mapping[str, Any], run_status: str | None) -> str | None:
    """Why a crawl that started must end with exit status 1, or None when it ran: its Scrapy
    stats and the status its run record ended with."""
    reason = stats.get("finish_reason")
    if reason is None:  # stopped outright (a second Ctrl-C) before the spider could close
        return "the crawl was stopped before it could finish (see the log above)"
    if run_status == "running":  # the database refused the run's last write (disk full, read-only)
        return "the crawl's run could not be recorded as ended: the database was not writable (see the log)"
    if reason == "shutdown":
        return "the crawl was shut down before it finished (see the log above)"
    if reason == "start_error":
        return "the crawl stopped early: listing its start URLs failed (see the log above)"
    return None
