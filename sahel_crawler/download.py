"""The crawler's HTTP(S) download handler: Scrapy's HTTP/1.1 handler with a cap on response
header sections (sahel_crawler.headerlimit) and certificate verification per outlet
(sahel_crawler.tls), whose failures it raises as errors of their own, not retried."""

from __future__ import annotations

from functools import partial
from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import DownloadFailedError
from scrapy.http import Request, Response

from sahel_crawler.headerlimit import HeaderLimitedClientFactory, HeaderLimits, HeaderSectionTooLarge
from sahel_crawler.tls import OutletTLSPolicy, tls_failure_reason


class HeadersTooLargeError(Exception):
    """The response's header section was over SAHEL_MAX_HEADER_BYTES or SAHEL_MAX_HEADER_COUNT."""


class TLSVerificationError(Exception):
    """The server's TLS certificate was refused (untrusted, expired, or for another name)."""


class SahelDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler for http and https.

    Settings: SAHEL_MAX_HEADER_BYTES, SAHEL_MAX_HEADER_COUNT, DOWNLOAD_VERIFY_CERTIFICATES, and
    the registry's `verify_tls` keys.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        limits = HeaderLimits(
            crawler.settings.getint("SAHEL_MAX_HEADER_BYTES"), crawler.settings.getint("SAHEL_MAX_HEADER_COUNT")
        )
        self._pool._factory = partial(HeaderLimitedClientFactory, limits=limits)
        self._contextFactory = OutletTLSPolicy.from_crawler(crawler)

    async def download_request(self, request: Request) -> Response:
        try:
            return await super().download_request(request)
        except DownloadFailedError as exc:
            reasons = getattr(exc.__cause__, "reasons", [])
            for reason in reasons:
                if reason.check(HeaderSectionTooLarge):
                    raise HeadersTooLargeError(reason.getErrorMessage()) from exc
            tls = tls_failure_reason(reasons)
            if tls is not None:
                raise TLSVerificationError(tls) from exc
            raise
