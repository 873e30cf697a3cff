"""Scale-out: crawl workers on any number of machines share one frontier and one seen-request
filter in Redis (scrapy-redis), all writing to one database (docs/operations.md, "Scaling out").

A worker is an ordinary `sahel crawl --redis URL` process. Workers started together form a
*crawl round*: the first one in starts the round (it forgets the previous round's seen requests,
so feeds are fetched again), every worker offers the registry's start URLs and the shared filter
lets each in once, every worker pops from the shared queue, and a worker leaves once the queue has
stayed empty for MAX_IDLE_TIME_BEFORE_CLOSE seconds. The last one out tidies the round away.

This module also serves as the queue's serializer (scrapy-redis imports SCHEDULER_SERIALIZER as a
module with `dumps` and `loads`): tagged JSON instead of scrapy-redis's default pickle, because
unpickling lets anyone who can write to Redis run code on every worker.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
import warnings
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task, threads

from storage.db import safe_url

logger = logging.getLogger(__name__)

# scrapy-redis 0.9.1 still passes `spider=` to the stats collector, which Scrapy 2.13+ deprecates:
# one warning per crawl that says nothing about this project.
warnings.filterwarnings("ignore", message="Passing a 'spider' argument", module=r"scrapy_redis\.")

DEFAULT_KEY_PREFIX = "sahel"
# Long enough to ride out a slow page on another worker that may still add requests,
# short enough that a finished crawl does not linger.
DEFAULT_IDLE_CLOSE_SECONDS = 30
WORKER_HEARTBEAT_SECONDS = 10
# A worker not heard of for this long is taken for dead: it no longer holds its round open.
WORKER_EXPIRY_SECONDS = 60

_KEY_PREFIX = re.compile(r"[A-Za-z0-9_.:-]+")


class RedisUnavailable(RuntimeError):
    """The Redis server of a scaled-out crawl cannot be reached."""


# -- settings -------------------------------------------------------------------------------


def validate_redis_url(url: str) -> str:
    """Return `url` if it is a usable Redis URL; raise ValueError with a one-line reason if not.

    redis-py's own parser checks the scheme, the port and the query options; this adds what it
    lets through silently: a missing host (it would connect to localhost) and a database that is
    not a number (it would use database 0).
    """
    try:
        options = redis.connection.parse_url(url)
    except ValueError as exc:
        raise ValueError(f"invalid Redis URL {safe_url(url)!r}: {exc}") from None
    parts = urlsplit(url)
    if parts.scheme != "unix":
        if "host" not in options:
            raise ValueError(f"invalid Redis URL {safe_url(url)!r}: no host (e.g. redis://HOST:6379/0)")
        if parts.path.strip("/") and "db" not in options:
            raise ValueError(f"invalid Redis URL {safe_url(url)!r}: the database after the host must be a number")
    return url


def redis_settings(redis_url: str, *, key_prefix: str = DEFAULT_KEY_PREFIX) -> dict[str, Any]:
    """Scrapy settings that make this crawl a worker sharing the frontier in `redis_url`.

    Workers share a crawl when they use the same Redis database and `key_prefix`; keys are
    `<key_prefix>:<spider>:requests|dupefilter|workers`. A worker waits
    DEFAULT_IDLE_CLOSE_SECONDS on an empty shared queue before it closes; the
    MAX_IDLE_TIME_BEFORE_CLOSE setting (`-s`) changes that (0: wait for work forever).
    Raises ValueError on a malformed URL or prefix.
    """
    validate_redis_url(redis_url)
    if not _KEY_PREFIX.fullmatch(key_prefix):
        raise ValueError(f"invalid Redis key prefix {key_prefix!r}: use letters, digits and _ . : -")
    return {
        "SCHEDULER": "sahel_crawler.scaleout.SharedFrontierScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",  # discovery (priority 10) first
        # Never flush the shared queue when one worker closes: the round decides (see the scheduler).
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_SERIALIZER": "sahel_crawler.scaleout",
        "REDIS_URL": redis_url,
        "SCHEDULER_QUEUE_KEY": f"{key_prefix}:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{key_prefix}:%(spider)s:dupefilter",
        "SAHEL_REDIS_WORKERS_KEY": f"{key_prefix}:%(spider)s:workers",
        "MAX_IDLE_TIME_BEFORE_CLOSE": DEFAULT_IDLE_CLOSE_SECONDS,
    }


def check_redis(redis_url: str, timeout: float = 5.0) -> None:
    """Fail early, with a one-line reason, when Redis cannot be reached at `redis_url` (a URL
    `redis_settings` accepted). Raises RedisUnavailable.
    """
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise RedisUnavailable(f"cannot use Redis {safe_url(redis_url)}: {exc}") from None
    finally:
        client.close()


# -- the queue's serializer (SCHEDULER_SERIALIZER) ------------------------------------------------

_TAGS = frozenset({"__bytes__", "__datetime__", "__date__", "__items__"})


def dumps(obj: Any) -> str:
    """JSON text of a request dict; bytes, datetimes, dates and non-text dict keys (headers)
    are tagged so that `loads` restores them. Raises TypeError on any other type."""
    return json.dumps(_encode(obj), ensure_ascii=False, separators=(",", ":"))


def loads(data: bytes | str) -> Any:
    """The request dict `dumps` wrote."""
    return json.loads(data, object_hook=_decode)


def _encode(obj: Any) -> Any:
    if obj is None or isinstance(obj, str | int | float):  # bool is an int
        return obj
    if isinstance(obj, bytes):
        return {"__bytes__": base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, datetime):  # before date: a datetime is a date
        return {"__datetime__": obj.isoformat()}
    if isinstance(obj, date):
        return {"__date__": obj.isoformat()}
    if isinstance(obj, list | tuple):
        return [_encode(v) for v in obj]
    if isinstance(obj, dict):
        # A dict that could be mistaken for a tag goes as items, like one with non-text keys.
        if all(isinstance(k, str) for k in obj) and not (len(obj) == 1 and next(iter(obj)) in _TAGS):
            return {k: _encode(v) for k, v in obj.items()}
        return {"__items__": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    raise TypeError(f"cannot put a {type(obj).__name__} in the shared request queue (request meta?)")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((tag, value),) = obj.items()
        if tag == "__bytes__":
            return base64.b64decode(value)
        if tag == "__datetime__":
            return datetime.fromisoformat(value)
        if tag == "__date__":
            return date.fromisoformat(value)
        if tag == "__items__":
            return {k: v for k, v in value}
    return obj


# -- the scheduler ---------------------------------------------------------------------------

# Every script reads the clock of the Redis server, so workers on machines whose clocks
# disagree still agree on who is alive. KEYS[1] is the round's worker set (id -> expiry).
_JOIN = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local others = redis.call('ZCARD', KEYS[1])
if others == 0 then redis.call('DEL', KEYS[2]) end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return {others, now}
"""
# Renews the worker's expiry; returns {renewed, now}: renewed is 0 when it had lost its
# membership (expired, pruned by another worker, or gone with a restarted Redis) and is
# registered again by this call, 1 otherwise.
_BEAT = """
local now = tonumber(redis.call('TIME')[1])
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if expiry and tonumber(expiry) > now then return {1, now} end
return {0, now}
"""
_LEAVE = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
"""


class SharedFrontierScheduler(Scheduler):
    """scrapy-redis's scheduler, plus membership of a crawl round and a bounded wait for work.

    - Opening joins the round (a set of live workers in Redis, kept by a heartbeat). The first
      worker in starts a new round: it clears the seen-request filter left by the last one, so
      start URLs are fetched again, and keeps any queued requests (they are resumed).
    - A worker not heard of for WORKER_EXPIRY_SECONDS (a paused process, a machine cut off from
      Redis) is taken for dead by the others. Its next heartbeat notices, logs a warning and
      registers it again, without restarting the round: meanwhile the others may have ended the
      round or started a new one without it. A worker that a restarted Redis forgot does the
      same; its warning says how long after its last heartbeat it found itself unregistered.
    - While the round runs, start requests that another worker already queued are filtered as
      seen, so the registry is fetched once per round however many workers start.
    - An idle worker whose shared queue is empty stays for MAX_IDLE_TIME_BEFORE_CLOSE seconds
      (other workers may still queue requests), then closes ("finished"); 0 waits forever.
    - Closing leaves the round; the last worker out, with the queue empty, deletes the filter.

    Settings: those of scrapy_redis.scheduler.Scheduler (REDIS_URL, SCHEDULER_QUEUE_KEY,
    SCHEDULER_DUPEFILTER_KEY, SCHEDULER_SERIALIZER, SCHEDULER_PERSIST, ...),
    SAHEL_REDIS_WORKERS_KEY, MAX_IDLE_TIME_BEFORE_CLOSE.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.workers_key_template = f"{DEFAULT_KEY_PREFIX}:%(spider)s:workers"
        self.max_idle = float(DEFAULT_IDLE_CLOSE_SECONDS)
        self.workers_key = ""
        self._idle_since: float | None = None
        self._heartbeat: task.LoopingCall | None = None
        # Heartbeats run in a thread: leaving takes this lock too, so a heartbeat that was under
        # way when the worker left cannot register it again.
        self._membership = threading.Lock()
        self._left = False
        # Redis's clock when this worker last joined or renewed its membership (heartbeats that
        # failed do not count): how long it had been silent when it finds it was dropped. Set
        # when it joins, in `open`, before any heartbeat.
        self._last_beat = 0
        self._join_script = self.server.register_script(_JOIN)
        self._beat_script = self.server.register_script(_BEAT)
        self._leave_script = self.server.register_script(_LEAVE)

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedFrontierScheduler:
        scheduler = super().from_crawler(crawler)
        settings = crawler.settings
        scheduler.workers_key_template = settings.get("SAHEL_REDIS_WORKERS_KEY") or scheduler.workers_key_template
        scheduler.max_idle = settings.getfloat("MAX_IDLE_TIME_BEFORE_CLOSE", DEFAULT_IDLE_CLOSE_SECONDS)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider: Any) -> None:
        super().open(spider)
        self.workers_key = self.workers_key_template % {"spider": spider.name}
        # Joined before the engine reads start requests, so a new round's filter is empty first.
        others, self._last_beat = self._join_script(
            keys=[self.workers_key, self.df.key], args=[self.worker_id, WORKER_EXPIRY_SECONDS]
        )
        if others:
            logger.info("worker %s joined a running crawl round (%d other workers)", self.worker_id, others)
        else:
            logger.info("worker %s started a new crawl round", self.worker_id)
        self._heartbeat = task.LoopingCall(self._send_heartbeat)
        self._heartbeat.start(WORKER_HEARTBEAT_SECONDS, now=False)

    def close(self, reason: str) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        with self._membership:
            self._left = True
            last = self._leave_script(keys=[self.workers_key, self.df.key, self.queue.key], args=[self.worker_id])
        logger.info("worker %s left the crawl round%s", self.worker_id, " (the last one: round over)" if last else "")
        super().close(reason)

    def next_request(self) -> Any:
        request = super().next_request()
        if request is not None:
            self._idle_since = None
        return request

    def spider_idle(self, spider: Any) -> None:
        """Keep the worker open while the shared queue has been empty for less than the idle time."""
        if self.max_idle <= 0:
            raise DontCloseSpider
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        if now - self._idle_since < self.max_idle:
            raise DontCloseSpider

    def _send_heartbeat(self) -> Any:
        # Off the reactor thread: a slow Redis must not stall the crawl.
        d = threads.deferToThread(self.heartbeat)
        d.addErrback(lambda failure: logger.warning("crawl round heartbeat failed: %s", failure.getErrorMessage()))
        return d

    def heartbeat(self) -> None:
        """Renew this worker's membership of the round; register it again if it was lost."""
        with self._membership:
            if self._left:
                return
            renewed, now = self._beat_script(keys=[self.workers_key], args=[self.worker_id, WORKER_EXPIRY_SECONDS])
            last, self._last_beat = self._last_beat, now
        if renewed:
            return
        # What the worker saw: it was no longer in the round. How long it had been silent, by
        # Redis's clock (the one its expiry is kept by), tells an expiry from a lost round list.
        silent = now - last
        if silent >= WORKER_EXPIRY_SECONDS:
            seen = (
                f"was taken for dead: no heartbeat of it reached Redis for {silent} s (the limit is "
                f"{WORKER_EXPIRY_SECONDS} s: paused, or cut off from Redis?)"
            )
        else:
            seen = (
                f"was no longer registered in the crawl round {silent} s after its last heartbeat, within "
                f"the {WORKER_EXPIRY_SECONDS} s limit (Redis restarted, or the round's list in Redis was changed?)"
            )
        logger.warning(
            "worker %s %s; it has registered again; the round may have ended or restarted without it, "
            "so some pages may be fetched twice (they are stored once)",
            self.worker_id,
            seen,
        )
