"""A size cap on robots.txt.

RFC 9309 (2.5) lets a crawler stop reading a robots.txt after 500 KiB. Scrapy downloads and parses
the whole body: a 9.5 MB robots.txt took 11 s to parse and made every request of that host slow to
check, and one over DOWNLOAD_MAXSIZE failed, which Scrapy takes as "no rules".
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import StopDownload
from scrapy.http import Response

from sahel_crawler.middlewares import is_robots_request

logger = logging.getLogger(__name__)


def capped_body(body: bytes, max_bytes: int) -> bytes:
    """The first `max_bytes` of a robots.txt, cut after its last complete line within them."""
    if len(body) <= max_bytes:
        return body
    head = body[:max_bytes]
    return head[: head.rfind(b"\n") + 1]


class RobotsSizeCapMiddleware:
    """Stop downloading a robots.txt once SAHEL_ROBOTSTXT_MAX_BYTES have arrived, and hand Scrapy's
    robots.txt middleware only that many bytes, up to the last complete line (parsed once per host).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler: Any) -> RobotsSizeCapMiddleware:
        middleware = cls(crawler.settings.getint("SAHEL_ROBOTSTXT_MAX_BYTES"))
        crawler.signals.connect(middleware.on_bytes_received, signal=signals.bytes_received)
        return middleware

    def on_bytes_received(self, data: bytes, request: Any, spider: Any = None) -> None:
        if not is_robots_request(request):
            return
        received = request.meta.get("sahel_robots_bytes", 0) + len(data)
        request.meta["sahel_robots_bytes"] = received
        if received > self.max_bytes:
            raise StopDownload(fail=False)  # the partial body goes on as the response

    def process_response(self, request: Any, response: Response, spider: Any = None) -> Response:
        if not is_robots_request(request) or len(response.body) <= self.max_bytes:
            return response
        body = capped_body(response.body, self.max_bytes)
        logger.info("%s: only the first %s bytes of robots.txt are read (RFC 9309)", request.url, len(body))
        return response.replace(body=body)
