"""Retry-After is obeyed per host: a page answering 429 with `Retry-After: 3` is asked for again
no sooner than 3 s later, while another outlet's host is crawled meanwhile."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sahel_crawler.demo import REPLAY_OVERRIDES, settings_args
from sahel_crawler.retryafter import retry_after_seconds
from tests.conftest import run_sahel
from tests.faults import FaultServer
from tests.faults import resources as r
from tests.faults.server import Exchange, Route
from tests.faults.site import article_html, rss

RETRY_AFTER = 3


def _timed(times: list[float], route: Route) -> Route:
    def timed(ex: Exchange) -> None:
        times.append(time.monotonic())
        route(ex)

    return timed


def _delayed(seconds: float, route: Route) -> Route:
    def delayed(ex: Exchange) -> None:
        time.sleep(seconds)
        route(ex)

    return delayed


def _page(title: str) -> bytes:
    return article_html(
        title, [f"{title} : un paragraphe assez long pour être un article de presse."] * 4, "fr"
    ).encode()


def test_a_throttled_host_is_held_for_its_retry_after_and_other_hosts_go_on(tmp_path: Path) -> None:
    throttled_hits: list[float] = []
    other_hits: list[float] = []
    lock = threading.Lock()
    with FaultServer("127.0.0.1") as a, FaultServer("127.0.0.2") as b:
        throttled = r.flaky([(429, (("Retry-After", str(RETRY_AFTER)),))], r.static(_page("Mali : retour")))
        a.add("/fr/20261119-mali-retour", _timed(throttled_hits, throttled))
        a.add("/rss", r.static(rss([("Mali", a.url("/fr/20261119-mali-retour"))]).encode(), "application/rss+xml"))
        b.add("/fr/20261119-niger-ailleurs", _timed(other_hits, r.static(_page("Niger : ailleurs"))))
        b_feed = rss([("Niger", b.url("/fr/20261119-niger-ailleurs"))]).encode()
        b.add("/rss", _delayed(1.0, r.static(b_feed, "application/rss+xml")))
        sources = tmp_path / "sources.yaml"
        outlets = {"a": {"name": "A", "feeds": [a.url("/rss")]}, "b": {"name": "B", "feeds": [b.url("/rss")]}}
        sources.write_text(yaml.safe_dump({"outlets": outlets}))
        db = f"sqlite:///{tmp_path / 'sahel.db'}"
        result = run_sahel("crawl", "--sources", str(sources), "--db", db, *settings_args(REPLAY_OVERRIDES))
    assert result.returncode == 0, result.stderr[-2000:]
    with lock:
        assert len(throttled_hits) == 2 and len(other_hits) == 1
    first, retry = throttled_hits
    assert retry - first >= RETRY_AFTER - 0.2, f"retried {retry - first:.2f} s after a Retry-After of {RETRY_AFTER}"
    assert other_hits[0] < first + RETRY_AFTER - 0.5, "the other host was held too"
    assert "holding its requests for 3 s (Retry-After)" in result.stderr


@given(seconds=st.integers(min_value=0, max_value=10**6))
def test_retry_after_reads_seconds_and_http_dates(seconds: int) -> None:
    now = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
    assert retry_after_seconds(str(seconds), now) == seconds
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=seconds), usegmt=True), now) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "Mon, 99 Foo 2026"])
def test_unusable_retry_after_is_ignored(value: str | None) -> None:
    assert retry_after_seconds(value) is None
