"""One hostile outlet serving every attack of the security issue at once, beside one good article:
the crawl ends by itself, stays under 700 MB, stores the good article and nothing else, and records
each bad URL with its reason.

The good article itself holds a control character and sits 300 elements deep beside deep JSON-LD,
so that the page an attacker would most like to delete is the one that must survive.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from sahel_crawler.demo import REPLAY_OVERRIDES, settings_args
from tests.faults import FaultServer
from tests.faults import resources as r
from tests.faults.certs import make_server_cert
from tests.faults.process import Measured, run_measured
from tests.faults.server import Exchange
from tests.faults.site import BOMB_PROLOGS, DAY, TUNED_ENTITIES, article_html, rss, urlset
from tests.faults.texts import french_paragraphs

pytestmark = pytest.mark.slow

PEAK_RSS_LIMIT_MB = 700
LINK_CAP = 200  # entries read from one feed (SAHEL_MAX_LINKS_PER_DOCUMENT), lowered to keep the test short
DISCOVERY_CAP = 30  # SAHEL_MAX_DISCOVERY_DOCUMENTS


def _good_article(paragraphs: list[str]) -> bytes:
    """An article with an escape character in its text, 300 bare divs around it and JSON-LD nested
    200 levels deep beside it."""
    html = article_html("Reprise des combats près de Kidal", paragraphs, "fr")
    html = html.replace("</p>", "&#27;</p>", 1)
    html = html.replace("<main>", "<main>" + "<div>" * 300).replace("</main>", "</div>" * 300 + "</main>")
    deep: object = {"@type": "Thing"}
    for _ in range(200):
        deep = {"about": deep}
    script = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "mentions": deep})
    return html.replace("</head>", f'<script type="application/ld+json">{script}</script></head>').encode()


def _endless_index(ex: Exchange) -> None:
    """/endless/<name>.xml: an index of two new child indexes, at every depth."""
    name = ex.path.rsplit("/", 1)[-1].removesuffix(".xml")
    locs = "".join(f"<sitemap><loc>/endless/{name}-{k}.xml</loc></sitemap>" for k in range(2))
    body = (
        f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</sitemapindex>'
    )
    ex.send_whole(200, body.encode(), "application/xml")


def _huge_robots() -> bytes:
    """A 9.5 MB robots.txt: rules within RFC 9309's 500 KiB allow everything; a rule past them
    would forbid the whole site."""
    filler = "".join(f"Disallow: /nothing-here/{n}/\n" for n in range(400_000))
    return f"User-agent: *\nAllow: /\n{filler}Disallow: /\n".encode()


@dataclass
class HostileCrawl:
    good: str
    expected: dict[str, tuple[str, str]]  # bad URL -> (kind, a word of its reason)
    never_requested: list[str]
    hostile: FaultServer
    result: Measured
    stored: dict[str, tuple[str, str]]  # url -> (outlet, text)
    errors: dict[str, tuple[str, str]]  # url -> (kind, reason)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileCrawl]:
    tmp = tmp_path_factory.mktemp("hostile")
    cert = make_server_cert(tmp, "forged", ["www.another-outlet.example"], None)
    servers = FaultServer("127.0.0.1"), FaultServer("127.0.0.2", tls=cert.server_context()), FaultServer("127.0.0.3")
    with servers[0] as hostile, servers[1] as forged, servers[2] as neighbour:
        paragraphs = french_paragraphs(900)
        good = hostile.add(f"{DAY}reprise-des-combats-pres-de-kidal", r.static(_good_article(paragraphs)))
        hostile.add("/robots.txt", r.static(_huge_robots(), "text/plain"))
        expected: dict[str, tuple[str, str]] = {}
        never: list[str] = []

        def article(slug: str, route: r.Route, kind: str, word: str) -> str:
            url = hostile.add(f"{DAY}{slug}", route)
            expected[url] = (kind, word)
            return url

        headers = article("endless-header-section", r.endless_headers(4096), "too_large", "headers")
        to_file = article("redirect-to-a-file", r.redirect("file:///etc/passwd"), "offsite", "file:")
        to_data = article("redirect-to-data", r.redirect("data:text/html,<h1>forged</h1>"), "offsite", "data:")
        theirs = neighbour.add(f"{DAY}an-article-of-the-neighbour", r.static(b"<html>forged</html>"))
        to_neighbour = article("redirect-to-another-outlet", r.redirect(theirs), "offsite", "neighbour")
        feeds = [hostile.add("/feed.xml", r.static(rss([("ok", u) for u in (good, headers, to_file, to_data,
                                                                             to_neighbour)]).encode()))]  # fmt: skip
        for name, before in BOMB_PROLOGS.items():
            listed = f"{DAY}listed-by-an-entity-bomb-{name}"
            never.append(listed)
            bomb = rss([("&a4;" * 5, hostile.url(listed))], prolog=f"{before}<!DOCTYPE rss [{TUNED_ENTITIES}]>")
            feeds.append(hostile.add(f"/bomb-{name}.xml", r.static(bomb.encode(), "application/rss+xml")))
            expected[feeds[-1]] = ("feed", "entity declarations")
        items = "".join(f"<item><link>/elsewhere/{n}</link></item>" for n in range(133_000))
        many = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
        feeds.append(hostile.add("/feed-of-133000-links.xml", r.static(many.encode(), "application/rss+xml")))
        expected[feeds[-1]] = ("feed", "truncated")
        hostile.add_prefix("/endless/", _endless_index)
        sitemaps = [hostile.url("/endless/root.xml"), hostile.add("/listed.xml", r.static(urlset([good]).encode()))]
        forged_section = forged.add("/section/", r.static(f'<a href="{forged.url(DAY + "forged")}">x</a>'.encode()))
        expected[forged_section] = ("tls", "certificate")
        sources = {
            "outlets": {
                "hostile": {
                    "name": "Hostile",
                    "feeds": feeds,
                    "sitemaps": sitemaps,
                    "sections": [forged_section],
                    "hosts": ["127.0.0.2"],
                    "allow": ["/2026/"],
                },
                "neighbour": {"name": "Neighbour", "sections": [neighbour.add("/section/", r.static(b"<p>-</p>"))]},
            }
        }
        (tmp / "sources.yaml").write_text(yaml.safe_dump(sources))
        db = tmp / "hostile.db"
        overrides = {
            **REPLAY_OVERRIDES,
            "SAHEL_ALLOWED_PRIVATE_HOSTS": ["127.0.0.1", "127.0.0.2", "127.0.0.3"],
            "DOWNLOAD_TIMEOUT": 5,
            "SAHEL_MAX_LINKS_PER_DOCUMENT": LINK_CAP,
            "SAHEL_MAX_DISCOVERY_DOCUMENTS": DISCOVERY_CAP,
        }
        result = run_measured(
            "crawl", "--sources", str(tmp / "sources.yaml"), "--db", f"sqlite:///{db}", *settings_args(overrides),
            timeout=240,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        with sqlite3.connect(db) as conn:
            stored = {
                url: (outlet, text) for url, outlet, text in conn.execute("SELECT url, outlet_id, text FROM articles")
            }
            errors = {
                url: (kind, reason) for url, kind, reason in conn.execute("SELECT url, kind, reason FROM crawl_errors")
            }
        yield HostileCrawl(good, expected, never, hostile, result, stored, errors)


def test_the_crawl_ends_by_itself_within_its_memory_bound(crawl: HostileCrawl) -> None:
    assert crawl.result.peak_rss_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {crawl.result.peak_rss_mb:.0f} MB"


def test_the_good_article_and_nothing_else_is_stored(crawl: HostileCrawl) -> None:
    assert set(crawl.stored) == {crawl.good}
    outlet, text = crawl.stored[crawl.good]
    assert outlet == "hostile"
    assert "\x1b" not in text and french_paragraphs(900)[2] in text


def test_each_bad_url_is_recorded_with_its_reason(crawl: HostileCrawl) -> None:
    for url, (kind, word) in crawl.expected.items():
        assert url in crawl.errors, f"not recorded: {url}"
        recorded_kind, reason = crawl.errors[url]
        assert recorded_kind == kind and word in reason, f"{url}: {recorded_kind}: {reason}"


def test_discovery_cut_is_recorded_and_bombs_list_nothing_that_is_fetched(crawl: HostileCrawl) -> None:
    kinds = [kind for kind, _ in crawl.errors.values()]
    assert kinds.count("discovery_cap") >= 1
    requested = set(crawl.hostile.paths())
    assert not requested & set(crawl.never_requested)
    assert len([p for p in requested if p.startswith("/elsewhere/")]) == 0, "links outside allow were requested"
