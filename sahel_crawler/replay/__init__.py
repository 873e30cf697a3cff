"""The bundled offline replay of the outlets: a loopback HTTP server with real-shaped pages.

with ReplayServer() as replay:
    replay.write_sources(tmp_path / "sources.yaml")
    ...  # crawl, then compare with replay.expected_articles()
"""

from sahel_crawler.replay.cli import serve_forever_cli
from sahel_crawler.replay.manifest import ExpectedArticle
from sahel_crawler.replay.server import ReplayServer, RequestRecord
from sahel_crawler.replay.site import BuiltSite, Resource, Site, SiteBuilder, StaticSite

__all__ = [
    "BuiltSite",
    "ExpectedArticle",
    "ReplayServer",
    "RequestRecord",
    "Resource",
    "Site",
    "SiteBuilder",
    "StaticSite",
    "serve_forever_cli",
]
