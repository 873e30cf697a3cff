"""Scrapy's off-site filter, per outlet: a request made for one outlet stays on that outlet's hosts.

Scrapy's filter allows the hosts of every outlet together (the spider's allowed_domains), so a
redirect from one outlet's article to another outlet's host was followed and the page stored
under the first outlet. Such a redirect is refused as off-site instead; the other outlet's own
discovery finds its pages, under its own allow/deny rules.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware


class OutletOffsiteMiddleware(OffsiteMiddleware):
    """Follow a request that names its outlet (meta "outlet") only on that outlet's hosts and their
    subdomains, or on a web archive the spider reads for it (`archive_hosts`: a backfill from the
    Wayback Machine); others (robots.txt) by Scrapy's rule over every outlet's hosts."""

    def should_follow(self, request: Request, spider: Any) -> bool:
        outlet = getattr(spider, "outlets", {}).get(request.meta.get("outlet"))
        if outlet is None:
            return super().should_follow(request, spider)
        return outlet.owns(request.url) or urlsplit(request.url).hostname in getattr(spider, "archive_hosts", ())
