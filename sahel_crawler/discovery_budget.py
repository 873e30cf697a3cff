"""Caps on what one crawl reads to find articles: a sitemap index that keeps listing new child
sitemaps must not make a crawl that never ends (while it holds the outlet's crawl lock).

Pure bookkeeping, no Scrapy: the spider asks before it requests a feed, sitemap or section page.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Cut:
    """A discovery document not fetched: which cap and whether it is the outlet's first such cut."""

    setting: str  # the cap's setting name
    reason: str
    first: bool  # the first cut of this cap for this outlet in this crawl: report it


class DiscoveryBudget:
    """Per outlet and crawl: at most `max_documents` feeds, sitemaps and section pages, and sitemaps
    nested at most `max_sitemap_depth` deep (a sitemap the registry lists is at depth 1)."""

    def __init__(self, *, max_documents: int, max_sitemap_depth: int) -> None:
        self.max_documents = max_documents
        self.max_sitemap_depth = max_sitemap_depth
        self._seen: dict[str, set[str]] = {}
        self.cut: Counter[str] = Counter()  # outlet -> documents not fetched
        self._reported: set[tuple[str, str]] = set()

    def admit(self, outlet: str, url: str, sitemap_depth: int = 1) -> Cut | None:
        """None when `url` may be fetched (counted against the outlet's budget), else the Cut.

        A URL already admitted for this outlet is admitted again without counting: Scrapy's
        duplicate filter drops the second request.
        """
        seen = self._seen.setdefault(outlet, set())
        if url in seen:
            return None
        if sitemap_depth > self.max_sitemap_depth:
            setting = "SAHEL_SITEMAP_MAX_DEPTH"
            reason = (
                f"sitemap nested {sitemap_depth} deep, over {setting} ({self.max_sitemap_depth}): not followed, "
                "nor any other sitemap of this outlet nested that deep in this crawl"
            )
        elif len(seen) >= self.max_documents:
            setting = "SAHEL_MAX_DISCOVERY_DOCUMENTS"
            reason = (
                f"over {setting} ({self.max_documents} feeds, sitemaps and section pages per outlet and crawl): "
                "not fetched, nor any further discovery document of this outlet in this crawl"
            )
        else:
            seen.add(url)
            return None
        self.cut[outlet] += 1
        first = (outlet, setting) not in self._reported
        self._reported.add((outlet, setting))
        return Cut(setting, reason, first)
