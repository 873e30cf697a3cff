"""Scale-out: crawl workers on any number of machines share one frontier and one seen-request
filter in Redis (scrapy-redis), all writing to one database (docs/operations.md, "Scaling out").

A worker is an ordinary `sahel crawl --redis URL` process. Workers started together form a
*crawl round*: the first one in starts the round (it forgets the previous round's seen requests,
so feeds are fetched again), every worker offers the registry's start URLs and the shared filter
lets each in once, every worker pops from the shared queue, and a worker leaves once the queue has
stayed empty for MAX_IDLE_TIME_BEFORE_CLOSE seconds. The last one out tidies the round away.

The crawl round itself (membership, heartbeat, the wait for work) is
`sahel_crawler.crawl_round`; this module holds the settings, the Redis check and the queue's
serializer. It serves as that serializer (scrapy-redis imports SCHEDULER_SERIALIZER as a
module with `dumps` and `loads`): tagged JSON instead of scrapy-redis's default pickle, because
unpickling lets anyone who can write to Redis run code on every worker.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import redis

from storage.db import safe_url

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "sahel"
# Long enough to ride out a slow page on another worker that may still add requests,
# short enough that a finished crawl does not linger.
DEFAULT_IDLE_CLOSE_SECONDS = 30

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
        "SCHEDULER": "sahel_crawler.crawl_round.SharedFrontierScheduler",
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
