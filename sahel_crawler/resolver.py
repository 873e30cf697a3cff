"""The crawler's DNS resolver, which refuses internal answers, and the middleware that reports
its refusals.

Why the check is made here: a host name can only be judged by what it resolves to, and the answer
that matters is the one the connection uses. Resolving the name in a downloader middleware and
letting the downloader resolve it again for the connection leaves a gap: a name whose DNS answers
a public address to the first lookup and an internal one to the second (DNS rebinding, e.g. with
a zero TTL) passes the check and then connects to the crawler's own machine or network.
`PrivateAddressResolver` is installed as Scrapy's resolver (TWISTED_DNS_RESOLVER), so the
address it checks is the address Twisted connects to; `PrivateAddressMiddleware` still refuses
what can be judged without a lookup (IP literals, numeric spellings, local names) before
anything, robots.txt included, is requested.

Twisted's HostnameEndpoint reduces a failed lookup to "no results for hostname lookup", which
Scrapy raises as CannotResolveHostError. The resolver therefore records each refused host with
the address it answered, and `RefusedLookupMiddleware` turns the download error back into the
PrivateAddressError the spider reports as kind "internal", naming the host and the address.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy.exceptions import CannotResolveHostError
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.datatypes import LocalCache
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from sahel_crawler.middlewares import allowed_private_hosts, is_internal_address, refuse_internal

# Hosts whose answer was refused -> the internal address they answered (lower-case host names,
# as in request URLs). A crawl is one process with one resolver, so the record is per process,
# like Scrapy's own DNS cache.
_refused: LocalCache[str, str] = LocalCache(10_000)


def internal_answer_reason(host: str, address: str) -> str:
    """The reason recorded for a host refused for the address it resolves to."""
    return f"refused {host}: it resolves to internal address {address}"


def refused_address(host: str) -> str | None:
    """The internal address `host` answered when the resolver refused it, or None."""
    return _refused.get(host.lower())


class InternalAnswerError(DNSLookupError):
    """A lookup refused because the name resolved to an internal address.

    A DNSLookupError, so callers of the resolver see a failed lookup, and Twisted's endpoints
    treat it as one (no connection is attempted)."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(internal_answer_reason(host, address))
        self.host = host
        self.address = address


class PrivateAddressResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, failing the lookup of any name whose answer is an internal
    (loopback, private, link-local, ...) address, unless the name is in
    SAHEL_ALLOWED_PRIVATE_HOSTS as written. Cached answers are checked too.

    Like the resolver it extends, it answers one IPv4 address per name, and that address is
    the one the connection is made to.
    """

    def __init__(self, reactor: Any, cache_size: int, timeout: float, allowed: Iterable[str] = ()) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.allowed = frozenset(h.lower() for h in allowed)

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> Self:
        # Scrapy builds the resolver once per process, passing the CrawlerProcess (which has the
        # crawl's settings) as `crawler`.
        resolver = super().from_crawler(crawler, reactor)
        # no port here: the ports of allowed hosts are checked by PrivateAddressMiddleware
        resolver.allowed = allowed_private_hosts(crawler.settings).hosts
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        return super().getHostByName(name, timeout).addCallback(self._check_answer, name)

    def _check_answer(self, address: str, name: str) -> str:
        host = name.lower()
        if host in self.allowed or not is_internal_address(address):
            _refused.pop(host, None)  # a refusal is only reported for the lookup that made it
            return address
        _refused[host] = address
        raise InternalAnswerError(host, address)


class RefusedLookupMiddleware:
    """Report a download that failed because `PrivateAddressResolver` refused its host's answer
    as the internal-address refusal it is (PrivateAddressError, counted in sahel/refused_internal),
    instead of a host name that does not resolve.

    Its priority must be above RetryMiddleware's (550): process_exception runs from the highest
    priority down, so the refusal is not retried.
    """

    def __init__(self, stats: Any) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> RefusedLookupMiddleware:
        return cls(crawler.stats)

    def process_exception(self, request: Any, exception: Exception, spider: Any = None) -> None:
        if not isinstance(exception, CannotResolveHostError):
            return None
        host = (urlsplit(request.url).hostname or "").lower()
        address = refused_address(host)
        if address is None:
            return None
        refuse_internal(self.stats, request, internal_answer_reason(host, address))
