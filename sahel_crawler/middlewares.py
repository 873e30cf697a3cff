"""Downloader middlewares of the crawler."""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from sahel_crawler.signals import page_failed

logger = logging.getLogger(__name__)

_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")


class PrivateAddressError(IgnoreRequest):
    """A request to a loopback, private, link-local or otherwise internal address."""


def is_internal_address(address: str) -> bool:
    """True for an IP address that is not globally routable (loopback, private, link-local, ...)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    # Python 3.11 judges ::ffff:10.0.0.1 as an IPv6 address; what the kernel connects to is the IPv4 one.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global


def is_ip_literal(host: str) -> bool:
    """True when `host` is an IPv4 or IPv6 address in standard notation (no resolution needed)."""
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def is_internal_host(host: str) -> bool:
    """True for hosts that name this machine or an internal network (by IP literal or name).

    Names are judged by their spelling only; `PrivateAddressMiddleware` also resolves them.
    """
    host = host.strip("[]").lower().rstrip(".")
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return True
    return is_ip_literal(host) and is_internal_address(host)


def report_failure(crawler: Any, log: logging.Logger | logging.LoggerAdapter[Any], url: str, kind: str,
                   reason: str, outlet: str | None) -> None:  # fmt: skip
    """Log a page-level failure with its URL and reason, count it and send `page_failed` (stored
    as a crawl_errors row of the run)."""
    log.warning("%s failed (%s): %s", url, kind, reason)
    crawler.stats.inc_value("sahel/errors")
    crawler.stats.inc_value(f"sahel/errors/{kind}")
    crawler.signals.send_catch_log(page_failed, url=url, kind=kind, reason=reason, outlet=outlet)


class PrivateAddressMiddleware:
    """Refuse requests to internal addresses, so a feed or redirect cannot point the crawler at
    the machine it runs on or its network. Redirects pass through here again, so they are checked too.

    Host names are resolved before the request goes on (once per host, off the reactor thread):
    a name with any internal address is refused, whatever it is called ("vm", "127.1",
    "2130706433", "localhost."). The connection itself is resolved again by Scrapy's resolver, so
    a name that changes its answer between the two lookups (DNS rebinding) is not caught here.

    Settings: SAHEL_ALLOWED_PRIVATE_HOSTS (hosts exempted as written, e.g. the loopback replay in
    tests; a name that merely resolves to an allowed address is not exempted).
    """

    def __init__(self, allowed: set[str], stats: Any) -> None:
        self.allowed = allowed
        self.stats = stats
        self._resolved: dict[str, list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateAddressMiddleware:
        allowed = {h.strip().lower() for h in crawler.settings.getlist("SAHEL_ALLOWED_PRIVATE_HOSTS") if h.strip()}
        return cls(allowed, crawler.stats)

    async def process_request(self, request: Any, spider: Any = None) -> None:
        host = (urlsplit(request.url).hostname or "").lower()
        if host in self.allowed:
            return None
        if is_internal_host(host):
            self._refuse(request, f"refused internal address {host}")
        if not is_ip_literal(host):
            internal = [a for a in await self._addresses(host) if is_internal_address(a)]
            if internal:
                self._refuse(request, f"refused {host}: it resolves to internal address {internal[0]}")
        return None

    def _refuse(self, request: Any, reason: str) -> None:
        self.stats.inc_value("sahel/refused_internal")
        raise PrivateAddressError(f"{reason} ({request.url})")

    async def _addresses(self, host: str) -> list[str]:
        """Every address `host` resolves to; [] when it does not resolve (the download then fails)."""
        if host not in self._resolved:
            try:
                infos = await maybe_deferred_to_future(threads.deferToThread(socket.getaddrinfo, host, None))
            except (OSError, UnicodeError):
                infos = []
            self._resolved[host] = sorted({str(info[4][0]) for info in infos})
        return self._resolved[host]


class RobotsServerErrorMiddleware:
    """Treat a robots.txt that answers a server error (5xx) as "disallow all" (RFC 9309, 2.3.1.4),
    and report it: the host's pages are not fetched in this crawl, the crawl goes on elsewhere.

    Scrapy's robots.txt middleware would otherwise parse the error page as an empty robots.txt
    and crawl everything. Runs after retries (priority below RetryMiddleware's 550).
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> RobotsServerErrorMiddleware:
        return cls(crawler)

    def process_response(self, request: Any, response: Response, spider: Any = None) -> Response:
        if response.status < 500 or urlsplit(request.url).path != "/robots.txt":
            return response
        if not request.meta.get("dont_obey_robotstxt"):
            return response
        reason = f"HTTP {response.status} on robots.txt: the host is treated as disallowing everything"
        report_failure(self.crawler, logger, request.url, "robots", reason, None)
        return response.replace(status=200, body=b"User-agent: *\nDisallow: /\n")
