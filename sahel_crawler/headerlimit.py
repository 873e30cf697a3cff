"""A cap on the header section of HTTP responses.

Scrapy caps response bodies (DOWNLOAD_MAXSIZE) but not headers: Twisted's HTTP/1.1 parser keeps
every header line it is sent, so a server that sends header lines without end fills the crawler's
memory. The parser here counts the bytes and lines of the status line and headers, and gives up
on the response (closing the connection) once either limit is passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scrapy.core.downloader.handlers.http11 import (
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _LenientHTTPClientParser,
)
from twisted.internet.defer import Deferred
from twisted.web._newclient import HEADER, STATUS
from twisted.web.iweb import IResponse


class HeaderSectionTooLarge(Exception):
    """A response whose status line and headers exceed SAHEL_MAX_HEADER_BYTES or SAHEL_MAX_HEADER_COUNT."""


@dataclass(frozen=True)
class HeaderLimits:
    """The most bytes (CRLFs included) and lines a response's header section may have."""

    max_bytes: int
    max_lines: int

    def check(self, received_bytes: int, received_lines: int) -> None:
        """Raise HeaderSectionTooLarge when either count is over its limit."""
        if received_bytes > self.max_bytes:
            raise HeaderSectionTooLarge(f"headers over {self.max_bytes} bytes")
        if received_lines > self.max_lines:
            raise HeaderSectionTooLarge(f"more than {self.max_lines} header lines")


class HeaderLimitedParser(_LenientHTTPClientParser):
    """Scrapy's lenient response parser, counting the header section against `limits`.

    Raising from lineReceived makes the protocol drop the connection and fail the response with
    the exception as its reason.
    """

    limits: HeaderLimits
    header_bytes = 0
    header_lines = 0

    def lineReceived(self, line: bytes) -> None:
        if self.state in (STATUS, HEADER):
            self.header_bytes += len(line) + 2
            self.header_lines += 1
            self.limits.check(self.header_bytes, self.header_lines)
        super().lineReceived(line)


class HeaderLimitedProtocol(_LenientHTTP11ClientProtocol):
    """Scrapy's HTTP/1.1 client protocol, parsing each response with a HeaderLimitedParser."""

    def __init__(self, quiescent_callback: Any, limits: HeaderLimits) -> None:
        super().__init__(quiescent_callback)
        self.limits = limits

    def request(self, request: Any) -> Deferred[IResponse]:
        d = super().request(request)
        # Scrapy's protocol swaps the parser's class the same way: request() builds the parser.
        assert self._parser is not None
        self._parser.__class__ = HeaderLimitedParser
        self._parser.limits = self.limits
        return d


class HeaderLimitedClientFactory(_LenientHTTP11ClientFactory):
    """The connection pool's protocol factory, building HeaderLimitedProtocols."""

    def __init__(self, quiescent_callback: Any, metadata: Any, limits: HeaderLimits) -> None:
        super().__init__(quiescent_callback, metadata)
        self.limits = limits

    def buildProtocol(self, addr: Any) -> HeaderLimitedProtocol:
        return HeaderLimitedProtocol(self._quiescentCallback, self.limits)
