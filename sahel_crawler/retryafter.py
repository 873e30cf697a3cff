"""Retry-After, per host: a 429 or 503 that says when to come back holds every request to that
host until then (up to SAHEL_RETRY_AFTER_MAX_SECONDS); other hosts go on meanwhile.

Scrapy's RetryMiddleware retries 429 and 503 at once, ignoring the header, so an outlet that
throttles the crawler got the retries it had just asked not to get.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delay-seconds or an HTTP date), None when unusable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    """Hold requests to a host that answered 429/503 with Retry-After until the time it named.

    Settings: SAHEL_RETRY_AFTER_MAX_SECONDS (the longest wait obeyed; 0 turns this off).
    """

    def __init__(self, max_seconds: float, stats: Any) -> None:
        self.max_seconds = max_seconds
        self.stats = stats
        self.not_before: dict[str, float] = {}  # host:port -> monotonic time

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        max_seconds = crawler.settings.getfloat("SAHEL_RETRY_AFTER_MAX_SECONDS")
        if max_seconds <= 0:
            raise NotConfigured("SAHEL_RETRY_AFTER_MAX_SECONDS is 0")
        return cls(max_seconds, crawler.stats)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        wait = self.not_before.get(_host(request.url), 0.0) - time.monotonic()
        if wait > 0:
            from twisted.internet import reactor

            self.stats.inc_value("sahel/retry_after_waits")
            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if response.status in RETRY_AFTER_STATUSES:
            header = response.headers.get(b"Retry-After")
            seconds = retry_after_seconds(header.decode("latin-1") if header else None)
            if seconds:
                seconds = min(seconds, self.max_seconds)
                host = _host(request.url)
                until = time.monotonic() + seconds
                if until > self.not_before.get(host, 0.0):
                    self.not_before[host] = until
                    logger.info("%s answered %s: holding its requests for %.0f s (Retry-After)",
                                host, response.status, seconds)  # fmt: skip
        return response


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()
