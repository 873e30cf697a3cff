"""Canonicalisation stage: the article's key URL and the other URLs it was reached by."""

from __future__ import annotations

from typing import Any

from sahel_crawler.items import ArticleItem
from sahel_crawler.sources import Outlet, registry_from_settings
from sahel_crawler.text.urls import canonicalize_url, pick_canonical


class CanonicalUrlPipeline:
    """Set `item.canonical_url` (a declared rel=canonical wins when it stays on the outlet's hosts)
    and collect every other URL of the page as an alias.

    Runs after extraction, which reads the page's declared canonical URL.
    Settings: SAHEL_SOURCES_PATH (per-outlet `urls:` rules and hosts).
    """

    def __init__(self, outlets: dict[str, Outlet]) -> None:
        self.outlets = outlets

    @classmethod
    def from_crawler(cls, crawler: Any) -> CanonicalUrlPipeline:
        return cls(registry_from_settings(crawler.settings).outlets)

    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        outlet = self.outlets[item.outlet]
        rules = outlet.urls
        item.canonical_url = pick_canonical(item.url, item.hints.get("canonical_url"), outlet.hosts, rules)
        variants = {item.url, item.requested_url, *item.aliases}
        item.aliases = sorted({canonicalize_url(u, rules=rules) for u in variants if u} - {item.canonical_url})
        return item
