"""How the spider names a failed request for the crawl's error record: its error kind
(docs/reliability.md) and a reason a reader understands, or None for an expected skip."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from twisted.python.failure import Failure

from sahel_crawler.backfill.replay import WarcRecordError
from sahel_crawler.download import HeadersTooLargeError, TLSVerificationError
from sahel_crawler.incremental import SkippedRequest
from sahel_crawler.middlewares import PrivateAddressError

# Answers of an outlet that refuses the crawler (not a missing page): reported as "blocked".
BLOCKED_STATUSES = frozenset({401, 403, 429, 451})

# Scrapy's own refusals that are plain IgnoreRequest: told apart by their documented messages.
_ROBOTS_MESSAGE = "Forbidden by robots.txt"
_IGNORED_KINDS = (
    ("Filtered offsite request", "offsite", "redirected off the outlet's hosts"),
    ("max redirections reached", "redirect", "too many redirects (a redirect loop?)"),
    ("DOWNLOAD_MAXSIZE", "too_large", "body larger than DOWNLOAD_MAXSIZE once decompressed"),
)
_DOWNLOAD_KINDS: tuple[tuple[type[BaseException], str, str], ...] = (
    (DownloadTimeoutError, "timeout", "no complete answer within DOWNLOAD_TIMEOUT"),
    (TLSVerificationError, "tls", "the server's TLS certificate was refused"),
    (HeadersTooLargeError, "too_large", "header section over SAHEL_MAX_HEADER_BYTES / SAHEL_MAX_HEADER_COUNT"),
    (DownloadCancelledError, "too_large", "body larger than DOWNLOAD_MAXSIZE, download cancelled"),
    (ResponseDataLossError, "truncated", "the connection ended before the whole body arrived"),
    (CannotResolveHostError, "dns", "the host name does not resolve"),
    (DownloadConnectionRefusedError, "refused", "the server refused the connection"),
    (WarcRecordError, "warc", "the archived page could not be read from its WARC file"),
)


# Failures the next crawl may not meet: the page is worth asking for again.
_TRANSIENT_KINDS = frozenset({"timeout", "truncated", "dns", "refused", "download"})


def may_pass_next_time(failure: Failure, kind: str) -> bool:
    """Whether the failure may not recur on the next crawl (a 5xx, 408, 429, a time-out...)."""
    response = getattr(failure.value, "response", None)
    if response is not None:
        return response.status >= 500 or response.status in (408, 429)
    return kind in _TRANSIENT_KINDS


def _refused_redirect(response: Response) -> tuple[str, str] | None:
    """("offsite", reason) for a redirect to a scheme other than http(s), which Scrapy's redirect
    middleware leaves unfollowed (file:, data:, ftp:, gopher:, ...); None for any other response."""
    location = response.headers.get(b"Location")
    if not 300 <= response.status < 400 or not location:
        return None
    target = urljoin(response.url, location.decode("latin-1"))
    scheme = urlsplit(target).scheme.lower()
    if scheme in ("http", "https"):
        return None
    return "offsite", f"redirect to a {scheme}: URL refused, not followed: {target[:200]}"


def classify_failure(failure: Failure) -> tuple[str, str] | None:
    """(kind, reason) of a failed request for the crawl's error record, or None for an expected skip."""
    message = failure.getErrorMessage()
    response = getattr(failure.value, "response", None)
    if response is not None:  # HttpError (an IgnoreRequest): the server answered, but not with a page
        if response.status in BLOCKED_STATUSES:
            return "blocked", f"HTTP {response.status}: the outlet refuses the crawler"
        return _refused_redirect(response) or ("http", f"HTTP {response.status}")
    if failure.check(PrivateAddressError):
        return "internal", message
    if failure.check(SkippedRequest):
        return None
    if failure.check(IgnoreRequest):
        if message == _ROBOTS_MESSAGE:
            return None
        for marker, kind, reason in _IGNORED_KINDS:
            if marker in message:
                return kind, f"{reason}: {message}"
        return "ignored", message
    for error_type, kind, meaning in _DOWNLOAD_KINDS:
        if failure.check(error_type):
            return kind, f"{meaning} ({failure.type.__name__}{': ' + message if message else ''})"
    return "download", f"{failure.type.__name__}: {message or 'the download failed'}"
