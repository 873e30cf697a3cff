"""Sitemap indexes that keep listing new child sitemaps: the crawl ends by itself, stores the good
articles and records what its discovery caps cut, once per outlet."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape

import pytest
import yaml

from sahel_crawler.discovery_budget import DiscoveryBudget
from sahel_crawler.settings import SAHEL_SITEMAP_MAX_DEPTH
from tests.conftest import CliResult, replay_settings_args, run_sahel
from tests.faults import FaultServer
from tests.faults import resources as r
from tests.faults.server import Exchange
from tests.faults.site import DAY, article_html, rss, urlset
from tests.faults.texts import french_paragraphs

DOCUMENT_CAP = 40
DEEP_CHILDREN, WIDE_CHILDREN = 2, 60


def endless_index(children: int) -> r.Route:
    """/endless/<name>.xml: a sitemap index of `children` new child indexes, at every depth."""

    def route(ex: Exchange) -> None:
        name = ex.path.rsplit("/", 1)[-1].removesuffix(".xml")
        base = ex.path.rsplit("/", 1)[0]
        locs = "".join(f"<sitemap><loc>{base}/{name}-{k}.xml</loc></sitemap>" for k in range(children))
        body = f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</sitemapindex>'
        ex.send_whole(200, body.encode(), "application/xml")

    return route


@dataclass
class CappedCrawl:
    deep: FaultServer
    wide: FaultServer
    good: dict[str, str]  # url -> a phrase of its text
    result: CliResult
    articles: dict[str, str]
    errors: list[tuple[str, str, str, str]]  # outlet, url, kind, reason
    run: tuple[str, int]  # status, errors


def _outlet(server: FaultServer, name: str, children: int, good: dict[str, str], seed: int) -> dict[str, object]:
    urls = []
    for n in range(3):
        paragraphs = french_paragraphs(seed + n)
        url = server.add(f"{DAY}{name}-article-{n}", r.static(article_html(f"{name} {n}", paragraphs, "fr").encode()))
        good[url] = paragraphs[2]
        urls.append(url)
    feed = server.add("/feed.xml", r.static(rss([(escape(name), u) for u in urls[:2]]).encode(), "application/rss+xml"))
    listed = server.add("/articles.xml", r.static(urlset(urls[2:]).encode(), "application/xml"))
    server.add_prefix("/endless/", endless_index(children))
    return {"name": name, "feeds": [feed], "sitemaps": [listed, server.url("/endless/root.xml")]}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CappedCrawl]:
    tmp = tmp_path_factory.mktemp("caps")
    with FaultServer("127.0.0.1") as deep, FaultServer("127.0.0.2") as wide:
        good: dict[str, str] = {}
        sources = {
            "outlets": {
                "deep": _outlet(deep, "deep", DEEP_CHILDREN, good, 100),
                "wide": _outlet(wide, "wide", WIDE_CHILDREN, good, 200),
            }
        }
        (tmp / "sources.yaml").write_text(yaml.safe_dump(sources))
        db = tmp / "caps.db"
        result = run_sahel(
            "crawl", "--sources", str(tmp / "sources.yaml"), "--db", f"sqlite:///{db}", *replay_settings_args(),
            "-s", f"SAHEL_MAX_DISCOVERY_DOCUMENTS={DOCUMENT_CAP}", timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        with sqlite3.connect(db) as conn:
            articles = dict(conn.execute("SELECT url, text FROM articles"))
            errors = conn.execute("SELECT outlet_id, url, kind, reason FROM crawl_errors").fetchall()
            run = conn.execute("SELECT status, errors FROM crawl_runs").fetchone()
        yield CappedCrawl(deep, wide, good, result, articles, errors, run)


def test_the_crawl_ends_by_itself_and_stores_every_good_article(crawl: CappedCrawl) -> None:
    assert crawl.run == ("finished", len(crawl.errors))
    assert set(crawl.articles) == set(crawl.good)
    for url, phrase in crawl.good.items():
        assert phrase in crawl.articles[url]


def test_sitemaps_nested_past_the_depth_cap_are_cut_and_recorded_once(crawl: CappedCrawl) -> None:
    fetched = [p for p in crawl.deep.paths() if p.startswith("/endless/")]
    # depths 1, 2 and 3 of an index listing two children each
    assert len(fetched) == sum(DEEP_CHILDREN**d for d in range(SAHEL_SITEMAP_MAX_DEPTH))
    [(url, kind, reason)] = [(u, k, why) for outlet, u, k, why in crawl.errors if outlet == "deep"]
    assert kind == "discovery_cap"
    assert url.startswith(crawl.deep.url("/endless/root-")) and url.count("-") == SAHEL_SITEMAP_MAX_DEPTH
    assert f"SAHEL_SITEMAP_MAX_DEPTH ({SAHEL_SITEMAP_MAX_DEPTH})" in reason and "listed on http" in reason


def test_discovery_documents_past_the_count_cap_are_cut_and_recorded_once(crawl: CappedCrawl) -> None:
    fetched = [p for p in crawl.wide.paths() if p.endswith(".xml")]
    assert len(fetched) == DOCUMENT_CAP  # the feed, the article sitemap, the endless index and its children
    [(url, kind, reason)] = [(u, k, why) for outlet, u, k, why in crawl.errors if outlet == "wide"]
    assert kind == "discovery_cap" and url.startswith(crawl.wide.url("/endless/root-"))
    assert f"SAHEL_MAX_DISCOVERY_DOCUMENTS ({DOCUMENT_CAP} " in reason


def test_the_log_names_each_cut_once_and_counts_the_rest(crawl: CappedCrawl) -> None:
    cut_lines = [line for line in crawl.result.stderr.splitlines() if "failed (discovery_cap)" in line]
    assert len(cut_lines) == 2
    wide_cut = (DOCUMENT_CAP - 3) * WIDE_CHILDREN + WIDE_CHILDREN - (DOCUMENT_CAP - 3)
    assert f"wide: {wide_cut} feeds, sitemaps or section pages not fetched" in crawl.result.stderr
    deep_cut = DEEP_CHILDREN**SAHEL_SITEMAP_MAX_DEPTH
    assert f"deep: {deep_cut} feeds, sitemaps or section pages not fetched" in crawl.result.stderr


def test_a_url_listed_twice_counts_once_against_the_budget() -> None:
    budget = DiscoveryBudget(max_documents=2, max_sitemap_depth=3)
    assert budget.admit("o", "http://o.test/a.xml") is None
    assert budget.admit("o", "http://o.test/a.xml") is None
    assert budget.admit("o", "http://o.test/b.xml") is None
    cut = budget.admit("o", "http://o.test/c.xml")
    assert cut is not None and cut.first and cut.setting == "SAHEL_MAX_DISCOVERY_DOCUMENTS"
    assert budget.admit("o", "http://o.test/d.xml").first is False  # type: ignore[union-attr]
    assert budget.admit("other", "http://other.test/a.xml") is None  # per outlet
