"""Downloader middlewares of the crawler."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

logger = logging.getLogger(__name__)


class PrivateAddressError(IgnoreRequest):
    """A request to a loopback, private, link-local or otherwise internal address."""


def is_internal_host(host: str) -> bool:
    """True for hosts that name this machine or an internal network (by IP literal or name)."""
    host = host.strip("[]").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


class PrivateAddressMiddleware:
    """Refuse requests to internal addresses, so a feed or redirect cannot point the crawler at
    the machine it runs on or its network. Redirects pass through here again, so they are checked too.

    Settings: SAHEL_ALLOWED_PRIVATE_HOSTS (hosts exempted, e.g. the loopback replay in tests).
    """

    def __init__(self, allowed: set[str], stats: Any) -> None:
        self.allowed = allowed
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateAddressMiddleware:
        allowed = {h.strip().lower() for h in crawler.settings.getlist("SAHEL_ALLOWED_PRIVATE_HOSTS") if h.strip()}
        return cls(allowed, crawler.stats)

    def process_request(self, request: Any, spider: Any = None) -> None:
        host = (urlsplit(request.url).hostname or "").lower()
        if host in self.allowed or not is_internal_host(host):
            return None
        self.stats.inc_value("sahel/refused_internal")
        raise PrivateAddressError(f"refused internal address {host} ({request.url})")
