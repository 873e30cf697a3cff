"""The crawl benchmark runs end to end on a tiny generated site and reports every key (no speed asserted)."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, datetime

import lxml.html
import pytest

from bench.sites import HOSTS, GeneratedSiteBuilder, article_pages
from sahel_crawler.extraction import extract_article
from sahel_crawler.replay import ReplayServer
from tests.conftest import run_bench

KEYS = {
    "articles",
    "first_run_s",
    "end_to_end_pages_per_s",
    "extraction_only_pages_per_s",
    "ratio",
    "ratio_same_period",
    "stage_ms_per_page",
    "peak_rss_mb",
    "cpu_utilisation",
    "overhead",
    "incremental_run_s",
    "side_by_side",
}
STAGES = {"fetch", "extract", "language", "canonical", "dedup", "keywords", "store"}


def test_generated_site_serves_distinct_articles_with_their_discovery_files() -> None:
    with ReplayServer(hosts=HOSTS, site_builder=GeneratedSiteBuilder(30), now=datetime(2026, 1, 5, tzinfo=UTC)) as r:
        expected = r.expected_articles()
        pages = list(article_pages(r.built))
        outlets = r.built.outlets
    assert len(expected) == len(pages) == 30
    assert len({a.url for a in expected}) == 30
    assert {a.language for a in expected} == {"ar", "fr"}
    # The last paragraph of every article is on its page and the pages differ.
    assert all(a.body_phrases[0] in html.unescape(page) for a, (_, _, page) in zip(expected, pages, strict=True))
    assert len({page for _, _, page in pages}) == 30
    assert all(entry["sitemaps"] and entry["feeds"] for entry in outlets.values())


def test_generated_pages_weigh_like_real_news_pages_and_the_weight_is_all_chrome() -> None:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    extracted = {}
    for heavy in (False, True):
        with ReplayServer(hosts=HOSTS, site_builder=GeneratedSiteBuilder(20, heavy=heavy), now=now) as r:
            pages = list(article_pages(r.built))
            extracted[heavy] = [replace(extract_article(page, url), canonical_url=None) for _, url, page in pages]
        if heavy:
            elements = [len(list(lxml.html.fromstring(page.encode()).iter())) for _, _, page in pages]
            sizes = [len(page.encode()) for _, _, page in pages]
    # The real pages of ../shared/corpus: France 24 740-940 elements and 128-148 KB, the extraction
    # benchmark's news pages a median of 785 elements and 115 KB.
    assert min(elements) >= 600 and max(elements) <= 1100
    assert min(sizes) >= 80_000 and max(sizes) <= 200_000
    assert extracted[True] == extracted[False], "menus, rails, ads and scripts change nothing extracted"


@pytest.mark.timeout(180)
def test_crawl_benchmark_emits_every_key_on_a_tiny_site() -> None:
    result = run_bench("crawl", "--articles", "20", "--newsplease-pages", "0", timeout=170)
    assert set(result) >= KEYS
    assert result["articles"] == 20
    assert result["stored"] == 20, "every generated article is stored"
    assert result["errors"] == 0
    assert set(result["stage_ms_per_page"]) == STAGES
    assert all(value is not None and value >= 0 for value in result["stage_ms_per_page"].values())
    assert result["end_to_end_pages_per_s"] > 0 and result["extraction_only_pages_per_s"] > 0
    assert result["ratio"] == pytest.approx(
        result["end_to_end_pages_per_s"] / result["extraction_only_pages_per_s"], rel=0.02
    )
    in_crawl_rate = 1000 / result["stage_ms_per_page"]["extract"]  # the single-core rate during the crawl
    assert result["ratio_same_period"] == pytest.approx(result["end_to_end_pages_per_s"] / in_crawl_rate, rel=0.05)
    assert result["peak_rss_mb"] > 0 and result["peak_processes"] >= 2, "the crawler and its workers"
    assert 0 < result["peak_pss_mb"] <= result["peak_rss_mb"], "shared pages are divided, never added"
    assert result["incremental_requests"] < 20, "the second run fetches no stored article again"
