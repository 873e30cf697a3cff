"""Scale-out: `sahel crawl --redis` workers share one frontier in Redis and write to one PostgreSQL."""

from __future__ import annotations

import logging
import re
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import scrapy
import yaml
from scrapy.utils.test import get_crawler
from scrapy_redis.queue import PriorityQueue
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sahel_crawler import crawl_round, scaleout
from sahel_crawler.replay import ReplayServer
from tests.conftest import replay_settings_args, run_sahel, start_sahel

# Seconds an idle worker waits on the empty shared queue in these tests (30 in production).
IDLE_CLOSE = "1"
CRAWL_TIMEOUT = 90


@pytest.fixture
def throwaway_pg(postgres_url: str) -> Iterator[str]:
    """URL of a fresh PostgreSQL database, dropped afterwards."""
    name = f"sahel_scaleout_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of our own on the test Redis; its keys are deleted afterwards."""
    prefix = f"sahel-test-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(redis_url)
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def _worker_args(sources: Path, db_url: str, redis_url: str, prefix: str) -> list[str]:
    """`sahel crawl` arguments of a worker of the shared replay crawl."""
    return [
        *("crawl", "--sources", str(sources), "--db", db_url),
        *("--redis", redis_url, "--redis-prefix", prefix),
        *replay_settings_args(),
        *("-s", f"MAX_IDLE_TIME_BEFORE_CLOSE={IDLE_CLOSE}"),
        # A few seconds of crawl, with few requests held by each worker: a worker pulls up to
        # CONCURRENT_REQUESTS from the shared queue into its own downloader, and one holding the
        # whole queue (or draining it in a fraction of a second) would leave the other idle.
        *("-s", "DOWNLOAD_DELAY=0.25", "-s", "CONCURRENT_REQUESTS=2"),
    ]


def _run_workers(agents: list[str], args: list[str], log_dir: Path) -> None:
    """Start one worker per user agent at once; wait for all, killing any that overruns."""
    procs = {}
    for agent in agents:
        with (log_dir / f"{agent}.log").open("w") as log:
            procs[agent] = start_sahel(*args, "-s", f"USER_AGENT={agent}", stdout=log, stderr=subprocess.STDOUT)
    try:
        for agent, proc in procs.items():
            code = proc.wait(timeout=CRAWL_TIMEOUT)
            assert code == 0, f"{agent} exited {code}:\n{(log_dir / f'{agent}.log').read_text()[-3000:]}"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def _fetches(replay: ReplayServer, agent: str) -> list[str]:
    """Paths one worker fetched (robots.txt aside: every worker reads it itself)."""
    return [r.path for r in replay.requests if r.headers.get("User-Agent") == agent and r.path != "/robots.txt"]


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.timeout(3 * CRAWL_TIMEOUT)
def test_two_workers_share_the_crawl_and_store_every_article_once(
    replay: ReplayServer,
    replay_sources: Path,
    throwaway_pg: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    tag = uuid.uuid4().hex[:8]
    workers = [f"sahel-worker-a-{tag}", f"sahel-worker-b-{tag}"]
    args = _worker_args(replay_sources, throwaway_pg, redis_url, redis_prefix)
    _run_workers(workers, args, tmp_path)

    expected = {e.url for e in replay.expected_articles() if e.stored}
    engine = create_engine(throwaway_pg)
    with engine.connect() as conn:
        stored = Counter(url for (url,) in conn.execute(text("SELECT url FROM articles")))
        runs = conn.execute(text("SELECT status FROM crawl_runs")).scalars().all()
    engine.dispose()
    assert set(stored) == expected
    assert all(count == 1 for count in stored.values())
    assert runs == ["finished", "finished"], "one finished crawl run per worker"

    fetched = {agent: _fetches(replay, agent) for agent in workers}
    assert all(fetched.values()), f"a worker fetched nothing: { {a: len(p) for a, p in fetched.items()} }"
    # One frontier: no article page was fetched by both workers, nor twice by one.
    article_paths = {urlsplit(url).path for url in expected}
    per_article = Counter(p for paths in fetched.values() for p in paths if urlsplit(p).path in article_paths)
    assert set(per_article) == article_paths
    assert max(per_article.values()) == 1, [p for p, n in per_article.items() if n > 1]

    # The round is over: nothing is left queued and no worker is registered.
    client = redis.Redis.from_url(redis_url)
    assert not client.exists(f"{redis_prefix}:news:requests", f"{redis_prefix}:news:workers")
    client.close()

    # The next crawl (the next scheduled run) starts a new round: feeds are fetched again,
    # stored articles are not stored again.
    later = f"sahel-worker-c-{tag}"
    _run_workers([later], args, tmp_path)
    feeds = {urlsplit(u).path for u in _feed_urls(replay_sources)}
    assert feeds <= set(_fetches(replay, later))
    engine = create_engine(throwaway_pg)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM articles")).scalar() == len(expected)
    engine.dispose()


def _feed_urls(sources: Path) -> list[str]:
    registry = yaml.safe_load(sources.read_text(encoding="utf-8"))
    return [url for outlet in registry["outlets"].values() for url in outlet.get("feeds", [])]


@pytest.mark.redis
def test_a_request_with_datetime_hints_survives_the_shared_queue(redis_url: str, redis_prefix: str) -> None:
    """Requests go through Redis as tagged JSON (never pickle) and come back equal."""

    class Spider(scrapy.Spider):
        name = "news"

        def parse_article(self, response: object) -> None:
            pass

    spider = Spider()
    published = datetime(2026, 11, 19, 8, 30, tzinfo=UTC)
    request = scrapy.Request(
        "http://127.0.0.1:1/fr/afrique/20261119-mali",
        callback=spider.parse_article,
        headers={"If-None-Match": '"abc"'},
        meta={
            "outlet": "france24",
            "hints": {"published_at": published, "title": "مالي"},
            "lookalike": {"__bytes__": "not a tag"},
        },
        priority=10,
    )
    queue = PriorityQueue(
        redis.Redis.from_url(redis_url), spider, f"{redis_prefix}:%(spider)s:requests", serializer=scaleout
    )
    queue.push(request)
    raw = queue.server.zrange(queue.key, 0, 0)[0]
    assert b"\x80" not in raw[:2] and raw.startswith(b"{"), "stored as JSON, not pickle"
    back = queue.pop()
    assert back.url == request.url and back.priority == 10 and back.callback == spider.parse_article
    assert back.meta["hints"] == {"published_at": published, "title": "مالي"}
    assert back.meta["hints"]["published_at"].tzinfo is not None
    assert back.meta["lookalike"] == {"__bytes__": "not a tag"}
    assert back.headers.get("If-None-Match") == b'"abc"'


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:6379/0", "Redis URL must specify one of the following schemes"),
        ("redis://:6379/0", "no host"),
        ("redis://127.0.0.1:6379/zero", "the database after the host must be a number"),
        ("redis://127.0.0.1:port/0", "Port could not be cast to integer"),
        ("redis://127.0.0.1:6379?db=zero", "Invalid value for 'db'"),
    ],
)
def test_a_bad_redis_url_is_refused_with_its_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=f"invalid Redis URL '{re.escape(url)}': {re.escape(reason)}"):
        scaleout.redis_settings(url)


def test_a_bad_redis_url_never_shows_its_password() -> None:
    with pytest.raises(ValueError, match=re.escape("invalid Redis URL 'redis://me:***@127.0.0.1:port/0'")):
        scaleout.redis_settings("redis://me:secret@127.0.0.1:port/0")


def test_a_bad_redis_url_is_a_usage_error(tmp_path: Path) -> None:
    result = run_sahel("crawl", "--redis", "http://127.0.0.1:6379/0", "--db", f"sqlite:///{tmp_path}/x.db", timeout=60)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("sahel: error: invalid Redis URL 'http://127.0.0.1:6379/0': Redis URL must specify")


def test_an_unreachable_redis_fails_before_crawling(tmp_path: Path) -> None:
    result = run_sahel("crawl", "--redis", "redis://127.0.0.1:1/0", "--db", f"sqlite:///{tmp_path}/x.db", timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("sahel: error: cannot use Redis redis://127.0.0.1:1/0:")


# -- membership of the crawl round ----------------------------------------------------------------


class _NewsSpider(scrapy.Spider):
    name = "news"


@pytest.fixture
def open_worker(redis_url: str, redis_prefix: str) -> Iterator[Callable[[], crawl_round.SharedFrontierScheduler]]:
    """Opens shared-frontier schedulers on the test Redis, as workers of one round; closes them after."""
    opened: list[crawl_round.SharedFrontierScheduler] = []

    def open_one() -> crawl_round.SharedFrontierScheduler:
        crawler = get_crawler(_NewsSpider, scaleout.redis_settings(redis_url, key_prefix=redis_prefix))
        scheduler = crawl_round.SharedFrontierScheduler.from_crawler(crawler)
        scheduler.open(_NewsSpider.from_crawler(crawler))
        opened.append(scheduler)
        return scheduler

    yield open_one
    for scheduler in opened:
        scheduler.close("finished")


def _members(redis_url: str, key: str) -> dict[str, float]:
    client = redis.Redis.from_url(redis_url)
    try:
        now = client.time()[0]
        return {m.decode(): score - now for m, score in client.zrange(key, 0, -1, withscores=True)}
    finally:
        client.close()


@pytest.mark.redis
def test_a_worker_paused_past_its_expiry_notices_and_registers_again(
    open_worker: Callable[[], crawl_round.SharedFrontierScheduler],
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(crawl_round, "WORKER_EXPIRY_SECONDS", 1)
    paused = open_worker()
    paused.heartbeat()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], "a live worker just renews"

    paused_at = time.monotonic()
    time.sleep(2.2)  # no heartbeat past the expiry, as if the process had been stopped
    other = open_worker()  # joining prunes the expired worker and, alone, starts a new round
    assert set(_members(redis_url, paused.workers_key)) == {other.worker_id}

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sahel_crawler.crawl_round"):
        paused.heartbeat()
    silence = time.monotonic() - paused_at
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    message = warning.getMessage()
    assert f"worker {paused.worker_id} was taken for dead" in message
    # The silence it reports is the one it had (by Redis's clock, in whole seconds).
    reported = re.search(r"no heartbeat of it reached Redis for (\d+) s \(the limit is 1 s", message)
    assert reported and 2 <= int(reported[1]) <= silence + 1, message
    members = _members(redis_url, paused.workers_key)
    assert set(members) == {paused.worker_id, other.worker_id}
    assert members[paused.worker_id] > 0, "registered with a fresh expiry"

    caplog.clear()
    paused.heartbeat()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], "one warning per lost membership"


@pytest.mark.redis
def test_an_expired_worker_not_yet_pruned_also_registers_again(
    open_worker: Callable[[], crawl_round.SharedFrontierScheduler],
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = open_worker()
    client = redis.Redis.from_url(redis_url)
    client.zadd(worker.workers_key, {worker.worker_id: 1})  # expired long ago, nobody pruned it
    client.close()
    with caplog.at_level(logging.WARNING, logger="sahel_crawler.crawl_round"):
        worker.heartbeat()
    assert any(f"worker {worker.worker_id} was no longer registered" in r.getMessage() for r in caplog.records)
    assert _members(redis_url, worker.workers_key)[worker.worker_id] > 0


@pytest.mark.redis
def test_a_worker_a_restarted_redis_forgot_says_so_without_claiming_a_long_silence(
    open_worker: Callable[[], crawl_round.SharedFrontierScheduler],
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = open_worker()
    joined = time.monotonic()
    client = redis.Redis.from_url(redis_url)
    client.delete(worker.workers_key)  # what a Redis restarted without persistence has lost
    client.close()
    with caplog.at_level(logging.WARNING, logger="sahel_crawler.crawl_round"):
        worker.heartbeat()  # a few seconds at most after its last one, far from the 60 s limit
    since = time.monotonic() - joined
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    message = warning.getMessage()
    assert f"worker {worker.worker_id} was no longer registered in the crawl round" in message
    reported = re.search(r"round (\d+) s after its last heartbeat, within the 60 s limit \(Redis restarted", message)
    assert reported and int(reported[1]) <= since + 1, message
    assert "taken for dead" not in message and "no heartbeat" not in message, "it was not silent for long"
    assert "has registered again" in message
    assert _members(redis_url, worker.workers_key)[worker.worker_id] > 0


@pytest.mark.redis
def test_a_heartbeat_after_the_worker_left_does_not_bring_it_back(
    open_worker: Callable[[], crawl_round.SharedFrontierScheduler], redis_url: str
) -> None:
    worker = open_worker()
    assert worker.worker_id in _members(redis_url, worker.workers_key)
    worker.close("finished")
    worker.heartbeat()  # one that was already under way when the worker closed
    assert worker.worker_id not in _members(redis_url, worker.workers_key)
