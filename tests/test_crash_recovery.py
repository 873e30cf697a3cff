"""Crash recovery: a crawl killed with SIGKILL half-way, then run again, leaves the same rows as
one clean run: every article exactly once, no half-written article (each has its signature and
the keyword hits of its text)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from sahel_crawler.replay import BuiltSite, ReplayServer, Resource, Site
from sahel_crawler.replay.bundled import build_bundled_site
from tests.conftest import REPLAY_NOW, crawl_replay, replay_settings_args, run_sahel, start_sahel

pytestmark = pytest.mark.slow

ARTICLE_DELAY = 1.5  # seconds before each article page answers during the crawl that is killed


@dataclass
class SlowSite:
    """A site whose article pages answer after `delay` seconds (0: at once)."""

    inner: Site
    article_paths: frozenset[str]
    delay: float = 0.0

    def get(self, path: str) -> Resource | None:
        if self.delay and path in self.article_paths:
            time.sleep(self.delay)
        return self.inner.get(path)


def _slow_bundled_site(base_urls: Mapping[str, str], now: datetime) -> BuiltSite:
    built = build_bundled_site(base_urls, now)
    paths = frozenset(unquote(urlsplit(a.url).path) for a in built.articles)
    built.sites = {outlet: SlowSite(site, paths) for outlet, site in built.sites.items()}
    return built


@pytest.fixture(scope="module")
def slow_replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ReplayServer, Path]]:
    with ReplayServer(now=REPLAY_NOW, site_builder=_slow_bundled_site) as server:
        yield server, server.write_sources(tmp_path_factory.mktemp("slow") / "sources.yaml")


def _set_delay(server: ReplayServer, delay: float) -> None:
    for site in server.built.sites.values():
        site.delay = delay  # type: ignore[attr-defined]


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def _export(db: Path) -> list[dict]:
    result = run_sahel("export", "--db", f"sqlite:///{db}", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    for record in records:
        del record["fetched_at"]
    return sorted(records, key=lambda r: r["url"])


def _start_crawl(sources: Path, db: Path) -> subprocess.Popen[bytes]:
    args = ["crawl", "--sources", str(sources), "--db", f"sqlite:///{db}", *replay_settings_args()]
    return start_sahel(*args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _kill_half_way(sources: Path, db: Path, total: int) -> int:
    """Start a crawl, SIGKILL it once a few articles are stored; return how many were."""
    proc = _start_crawl(sources, db)
    try:
        deadline = time.monotonic() + 90
        while _count(db) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)  # the crawl and its extraction workers
        assert proc.wait(timeout=10) == -signal.SIGKILL, "the crawl ended before it could be killed"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    stored = _count(db)
    assert 0 < stored < total, f"not killed half-way: {stored} of {total} stored"
    return stored


def test_a_crawl_killed_half_way_and_run_again_equals_one_clean_run(
    slow_replay: tuple[ReplayServer, Path], tmp_path: Path
) -> None:
    server, sources = slow_replay
    total = sum(1 for a in server.expected_articles() if a.stored)
    _set_delay(server, ARTICLE_DELAY)
    clean = tmp_path / "clean.db"
    reference = _start_crawl(sources, clean)  # the clean run, side by side with the one killed
    crashed = tmp_path / "crashed.db"
    _kill_half_way(sources, crashed, total)
    _, stderr = reference.communicate(timeout=120)
    assert reference.returncode == 0, stderr.decode()[-2000:]
    _set_delay(server, 0)
    again = crawl_replay(sources, f"sqlite:///{crashed}")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "already running" not in again.stderr  # the killed crawl's lock died with it

    assert _export(crashed) == _export(clean)
    with sqlite3.connect(crashed) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone() == (total, total)
        unsigned = conn.execute(
            "SELECT url FROM articles WHERE id NOT IN (SELECT article_id FROM article_signatures)"
        ).fetchall()
        assert unsigned == [], "an article was stored without its near-duplicate signature"
        statuses = [s for (s,) in conn.execute("SELECT status FROM crawl_runs ORDER BY id")]
    assert statuses[-1] == "finished"
    with sqlite3.connect(clean) as conn:
        hits_clean = conn.execute("SELECT count(*) FROM keyword_hits").fetchone()[0]
    with sqlite3.connect(crashed) as conn:
        assert conn.execute("SELECT count(*) FROM keyword_hits").fetchone()[0] == hits_clean
