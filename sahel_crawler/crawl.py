"""Run one crawl in this process: Scrapy's reactor cannot restart, so one crawl per process."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from pipelines.language import detect_languages_setting
from sahel_crawler.middlewares import allowed_private_hosts
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


# The crawl's own numeric and yes/no settings: a typo in `-s NAME=VALUE` must stop the crawl with
# its name before anything starts, not fail inside Scrapy's start-up with a traceback.
_TYPED_SETTINGS: dict[str, tuple[str, Callable[[Settings, str], Any]]] = {
    **{name: ("an integer", Settings.getint) for name in (
        "SAHEL_DEDUP_MAX_ITEMS", "SAHEL_EXTRACT_MAX_CHARS", "SAHEL_GC_YOUNG_THRESHOLD", "SAHEL_LANGUAGE_PREFIX_CHARS",
        "SAHEL_MIN_TEXT_CHARS", "SAHEL_STORE_BATCH_SIZE")},
    **{name: ("an integer", Settings.getint) for name in ("SAHEL_MAX_DISCOVERY_DOCUMENTS", "SAHEL_SITEMAP_MAX_DEPTH")},
    **{name: ("a number", Settings.getfloat) for name in (
        "SAHEL_DEDUP_THRESHOLD", "SAHEL_DEDUP_WINDOW_DAYS", "SAHEL_EXTRACT_TIMEOUT",
        "SAHEL_PROGRESS_INTERVAL", "SAHEL_STORE_BATCH_SECONDS")},
    **{name: ("true or false", Settings.getbool) for name in (
        "SAHEL_DEDUP_ENABLED", "SAHEL_DISK_QUEUE", "SAHEL_INCREMENTAL_ENABLED", "SAHEL_KEYWORDS_ENABLED",
        "SAHEL_REFRESH")},
}  # fmt: skip


def check_setting_types(settings: Settings) -> None:
    """ValueError naming the first of the crawl's own settings whose value is not of its type."""
    for name, (kind, read) in _TYPED_SETTINGS.items():
        try:
            read(settings, name)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: {settings.get(name)!r} is not {kind}") from None
    workers = settings.get("SAHEL_EXTRACT_WORKERS")
    if workers not in (None, ""):
        try:
            int(workers)
        except (TypeError, ValueError):
            raise ValueError(f"SAHEL_EXTRACT_WORKERS: {workers!r} is not an integer") from None
    threshold = settings.getfloat("SAHEL_DEDUP_THRESHOLD", 0.4)
    if not 0 < threshold <= 1:
        raise ValueError(f"SAHEL_DEDUP_THRESHOLD: {threshold} is not in (0, 1]")


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


def run_crawl(settings: Settings) -> dict[str, Any]:
    """Crawl with the `news` spider until done; return the crawl's Scrapy stats."""
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("news")
    process.crawl(crawler)
    process.start()
    return dict(crawler.stats.get_stats())
