"""`sahel sources discover URL` against the bundled replay: the feeds a page announces, the
sitemaps robots.txt declares, the article URL shape, and an entry that loads as a registry."""

from __future__ import annotations

from pathlib import Path

import yaml

from sahel_crawler.replay import ReplayServer
from sahel_crawler.sources import load_registry
from tests.conftest import run_sahel


def test_discover_lists_feeds_sitemaps_and_article_shape_and_prints_a_usable_entry(
    replay: ReplayServer, tmp_path: Path
) -> None:
    section = yaml.safe_load(replay.sources_yaml())["outlets"]["france24"]["sections"][0]
    base = section.split("/fr/")[0]
    result = run_sahel("sources", "discover", section, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"feed     {base}/fr/afrique/rss  (announced by the page (link rel=alternate))" in out
    assert f"sitemap  {base}/sitemaps/index.xml  (declared in robots.txt)" in out
    assert "allow: ['/\\d{8}-']" in out

    entry = out[out.index("outlets:") :]
    sources = tmp_path / "sources.yaml"
    sources.write_text(entry, encoding="utf-8")
    outlet = next(iter(load_registry(sources).outlets.values()))
    assert outlet.feeds == (f"{base}/fr/afrique/rss",)
    assert outlet.sitemaps == (f"{base}/sitemaps/index.xml",)
    article = next(a.url for a in replay.expected_articles() if "/fr/afrique/" in a.url)
    assert outlet.owns(article) and outlet.accepts_article_url(article)
    assert not outlet.accepts_article_url(f"{base}/fr/afrique/")


def test_discover_refuses_what_is_not_an_http_url() -> None:
    result = run_sahel("sources", "discover", "ftp://example.org/")
    assert result.returncode == 2
    assert "is not an http(s) URL" in result.stderr
