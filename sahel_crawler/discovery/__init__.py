"""Discovery of article URLs from feeds and sitemaps: pure parsers used by the ``news`` spider.

>>> from sahel_crawler.discovery import parse_feed, parse_sitemap
>>> parse_sitemap(b"<urlset><url><loc>/a</loc></url></urlset>", "https://example.org/s.xml").links[0].url
'https://example.org/a'
"""

from .feeds import (
    ENTITY_REFUSAL,
    MAX_LINKS_PER_DOCUMENT,
    DiscoveredLink,
    FeedResult,
    looks_like_feed,
    parse_date,
    parse_feed,
)
from .sitemaps import MAX_SITEMAP_BYTES, MAX_SITEMAP_URLS, SitemapResult, looks_like_sitemap, parse_sitemap

__all__ = [
    "ENTITY_REFUSAL",
    "MAX_LINKS_PER_DOCUMENT",
    "MAX_SITEMAP_BYTES",
    "MAX_SITEMAP_URLS",
    "DiscoveredLink",
    "FeedResult",
    "SitemapResult",
    "looks_like_feed",
    "looks_like_sitemap",
    "parse_date",
    "parse_feed",
    "parse_sitemap",
]
