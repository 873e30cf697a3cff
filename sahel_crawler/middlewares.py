"""Downloader middlewares of the crawler."""

from __future__ import annotations

import ipaddress
import logging
import socket
import string
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from sahel_crawler.signals import report_failure
from sahel_crawler.sources import registry_from_settings

logger = logging.getLogger(__name__)

_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
_NUMERIC_IPV4_CHARS = frozenset(string.hexdigits + "xX.")


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


def numeric_ipv4(host: str) -> str | None:
    """The dotted-quad address that `host` spells in one of the other numeric forms the C library
    accepts without a lookup ("2130706433", "0x7f000001", "0177.0.0.1", "127.1"), or None."""
    if not host or not set(host) <= _NUMERIC_IPV4_CHARS:
        return None
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def is_internal_host(host: str) -> bool:
    """True for hosts that name this machine or an internal network by their spelling: local
    names and suffixes, IP literals and numeric IPv4 forms of an internal address.

    Other names are judged by what they resolve to, when the connection is made
    (`sahel_crawler.resolver.PrivateAddressResolver`).
    """
    host = host.strip("[]").lower().rstrip(".")
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return True
    if is_ip_literal(host):
        return is_internal_address(host)
    address = numeric_ipv4(host)
    return address is not None and is_internal_address(address)


_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class AllowedPrivateHosts:
    """SAHEL_ALLOWED_PRIVATE_HOSTS: lower-case internal hosts, as written, and the ports on which
    each may be fetched."""

    ports: dict[str, frozenset[int]]

    @property
    def hosts(self) -> frozenset[str]:
        """The hosts exempted on some port (what the resolver, which sees no port, exempts)."""
        return frozenset(self.ports)

    def allows(self, host: str, port: int) -> bool:
        """True when `host` is exempted on `port`."""
        return port in self.ports.get(host, ())


def url_port(url: str) -> int | None:
    """The port a URL connects to (its scheme's default when it names none); None if it has none."""
    parts = urlsplit(url)
    return parts.port or _DEFAULT_PORTS.get(parts.scheme)


def allowed_private_hosts(settings: Any) -> AllowedPrivateHosts:
    """SAHEL_ALLOWED_PRIVATE_HOSTS: a `host:port` entry exempts that port of the host; a bare host,
    the ports of the registry's URLs on that host (feeds, sitemaps, sections), and no other.
    ValueError for an entry that is neither."""
    registry_ports: dict[str, set[int]] = {}
    for outlet in registry_from_settings(settings).outlets.values():
        for _, url in outlet.start_urls():
            port = url_port(url)
            if port is not None:
                registry_ports.setdefault((urlsplit(url).hostname or "").lower(), set()).add(port)
    ports: dict[str, set[int]] = {}
    for entry in settings.getlist("SAHEL_ALLOWED_PRIVATE_HOSTS"):
        try:
            parts = urlsplit(f"//{entry.strip()}")
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            raise ValueError(f"SAHEL_ALLOWED_PRIVATE_HOSTS: {entry!r} is not a host or host:port") from None
        if host:
            ports.setdefault(host, set()).update([port] if port else registry_ports.get(host, ()))
    return AllowedPrivateHosts({host: frozenset(p) for host, p in ports.items()})


def refuse_internal(stats: Any, request: Any, reason: str) -> NoReturn:
    """Count a refused request to an internal address and raise its PrivateAddressError (reported
    by the spider as kind "internal", with `reason` and the URL)."""
    stats.inc_value("sahel/refused_internal")
    raise PrivateAddressError(f"{reason} ({request.url})")


class PrivateAddressMiddleware:
    """Refuse requests to internal addresses, so a feed or redirect cannot point the crawler at
    the machine it runs on or its network. Redirects pass through here again, so they are checked too.

    Hosts are judged here by their spelling, before anything connects (robots.txt included): IP
    literals, numeric IPv4 forms ("2130706433", "0x7f.1", "127.1"), IPv4-mapped IPv6 addresses and
    local names ("localhost.", "printer.local"). Other names are judged by their answer at the
    connection's own lookup, by `sahel_crawler.resolver.PrivateAddressResolver`: checking a
    separate lookup here would let a name that answers a public address first and an internal
    one next (DNS rebinding) through.

    Settings: SAHEL_ALLOWED_PRIVATE_HOSTS (hosts exempted as written, e.g. the loopback replay in
    tests, on the ports `allowed_private_hosts` gives them; a name that merely resolves to an
    allowed address is not exempted).
    """

    def __init__(self, allowed: AllowedPrivateHosts, stats: Any) -> None:
        self.allowed = allowed
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateAddressMiddleware:
        return cls(allowed_private_hosts(crawler.settings), crawler.stats)

    def process_request(self, request: Any, spider: Any = None) -> None:
        host = (urlsplit(request.url).hostname or "").lower()
        if host in self.allowed.hosts:
            port = url_port(request.url) or 0
            if not self.allowed.allows(host, port):
                allowed = ", ".join(map(str, sorted(self.allowed.ports[host]))) or "none"
                reason = f"refused port {port} of {host}: SAHEL_ALLOWED_PRIVATE_HOSTS allows its ports {allowed} only"
                refuse_internal(self.stats, request, reason)
        elif is_internal_host(host):
            refuse_internal(self.stats, request, f"refused internal address {host}")
        return None


def is_robots_request(request: Any) -> bool:
    """True for the robots.txt requests Scrapy's robots.txt middleware makes."""
    return bool(request.meta.get("dont_obey_robotstxt")) and urlsplit(request.url).path == "/robots.txt"


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
        if response.status < 500 or not is_robots_request(request):
            return response
        reason = f"HTTP {response.status} on robots.txt: the host is treated as disallowing everything"
        report_failure(self.crawler.stats, self.crawler.signals, logger, request.url, "robots", reason, None)
        return response.replace(status=200, body=b"User-agent: *\nDisallow: /\n")
