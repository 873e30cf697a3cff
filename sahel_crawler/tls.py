"""TLS certificate verification per outlet, and the reason a refused certificate is reported with.

Certificates are verified (DOWNLOAD_VERIFY_CERTIFICATES) against the system's CA store, or the
bundle SSL_CERT_FILE names. An outlet with `verify_tls: false` in the registry is fetched without
verification, on its hosts and their subdomains (the rule of `Outlet.owns`).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from OpenSSL import SSL
from scrapy.core.downloader.contextfactory import _load_context_factory_from_settings
from scrapy.settings import Settings
from service_identity import VerificationError
from twisted.python.failure import Failure
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from sahel_crawler.sources import registry_from_settings


def unverified_hosts(settings: Any) -> frozenset[str]:
    """The hosts of the registry's outlets that set `verify_tls: false`."""
    registry = registry_from_settings(settings)
    return frozenset(h for o in registry.outlets.values() if not o.verify_tls for h in o.hosts)


@implementer(IPolicyForHTTPS)
class OutletTLSPolicy:
    """Scrapy's TLS client policy for every host, except the hosts of outlets that opted out of
    verification, which get Scrapy's policy with DOWNLOAD_VERIFY_CERTIFICATES off."""

    def __init__(self, verified: IPolicyForHTTPS, unverified: IPolicyForHTTPS, hosts: frozenset[str]) -> None:
        self.verified = verified
        self.unverified = unverified
        self.hosts = hosts

    @classmethod
    def from_crawler(cls, crawler: Any) -> OutletTLSPolicy:
        settings = Settings({**crawler.settings.copy_to_dict(), "DOWNLOAD_VERIFY_CERTIFICATES": False})
        unverified = _load_context_factory_from_settings(SimpleNamespace(settings=settings))
        return cls(_load_context_factory_from_settings(crawler), unverified, unverified_hosts(crawler.settings))

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        host = hostname.decode("ascii").lower()
        exempt = host in self.hosts or any(host.endswith(f".{h}") for h in self.hosts)
        return (self.unverified if exempt else self.verified).creatorForNetloc(hostname, port)


def tls_failure_reason(reasons: Iterable[Failure]) -> str | None:
    """What failed in the TLS handshake among a failed response's reasons, or None."""
    for reason in reasons:
        if reason.check(VerificationError):
            return f"certificate does not match the host name: {reason.getErrorMessage()}"
        if reason.check(SSL.Error):
            details = [part for err in reason.value.args[0] for part in err if part] if reason.value.args else []
            return f"TLS handshake failed: {', '.join(map(str, details)) or reason.getErrorMessage()}"
    return None
