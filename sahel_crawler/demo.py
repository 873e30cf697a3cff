"""The offline demo: crawl the bundled outlet replay on loopback into a fresh SQLite file."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sahel_crawler.crawl import crawl_settings, run_crawl
from sahel_crawler.replay import ReplayServer
from sahel_crawler.terminal import setup_crawl_output
from storage.db import DatabaseError, open_database

# Crawl settings for the local replay: no politeness delays against our own loopback server,
# and its private addresses explicitly allowed.
REPLAY_OVERRIDES: dict[str, Any] = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "SAHEL_ALLOWED_PRIVATE_HOSTS": ["127.0.0.1", "127.0.0.2"],
    "SAHEL_PROGRESS_INTERVAL": 1.0,
}


def settings_args(settings: Mapping[str, Any]) -> list[str]:
    """`-s NAME=VALUE` arguments of a `sahel crawl` command for `settings`: lists joined with commas,
    dicts as JSON."""
    args = []
    for name, value in settings.items():
        if isinstance(value, list):
            value = ",".join(value)
        elif isinstance(value, dict):
            value = json.dumps(value)
        args += ["-s", f"{name}={value}"]
    return args


def run_demo(db_path: Path, log_level: str | None = None) -> dict[str, Any]:
    """Serve the replay, crawl it into `db_path` (replaced if present); return the crawl stats.

    Raises DatabaseError, before anything is crawled, when `db_path` cannot hold a database.
    `log_level` shows the crawl's log from that level up (see `terminal.setup_crawl_output`).
    """
    db_path = Path(db_path)
    db_url = f"sqlite:///{db_path}"
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot use database {db_url}: {exc.strerror or exc}") from None
    open_database(db_url).dispose()
    with ReplayServer() as server, tempfile.TemporaryDirectory() as tmp:
        sources = server.write_sources(Path(tmp) / "sources.yaml")
        # The demo shows its summary and digest; Scrapy's start-up log lines would bury them.
        overrides = {**REPLAY_OVERRIDES, "LOG_LEVEL": "WARNING"}
        settings = crawl_settings(db_url=db_url, sources_path=str(sources), overrides=overrides)
        setup_crawl_output(settings, log_level)
        return run_crawl(settings)
