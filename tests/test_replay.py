"""The bundled offline replay: pages, discovery documents, awkward cases and the server itself.

Everything goes through real HTTP on loopback with urllib, as a crawler would see it.
"""

from __future__ import annotations

import gzip
import html
import json
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import feedparser
import lxml.etree
import lxml.html
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sahel_crawler.replay import ExpectedArticle, ReplayServer
from sahel_crawler.replay.server import decode_path

NOW = datetime(2025, 3, 12, 9, 30, tzinfo=UTC)
NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}
BODY_SELECTOR = {"france24": "div.t-content__body", "meo": "div.field--name-body"}


class Fetched:
    def __init__(self, status: int, headers, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def text(self) -> str:
        return self.body.decode(self.headers.get_content_charset() or "utf-8")


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Fetched:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers, error.read())


def strip_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(now=NOW) as server:
        yield server


@pytest.fixture(scope="module")
def registry(replay: ReplayServer) -> dict:
    return yaml.safe_load(replay.sources_yaml())["outlets"]


@pytest.fixture(scope="module")
def articles(replay: ReplayServer) -> list[ExpectedArticle]:
    return replay.expected_articles()


def feed_links(url: str) -> list[str]:
    parsed = feedparser.parse(fetch(url).body)
    assert not parsed.bozo, f"{url}: {parsed.get('bozo_exception')}"
    return [entry.link for entry in parsed.entries]


def sitemap_urls(url: str) -> list[tuple[str, str | None]]:
    """(loc, news:publication_date) of a sitemap, following sitemap indexes and gzip."""
    body = fetch(url).body
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    root = lxml.etree.fromstring(body, parser=lxml.etree.XMLParser(resolve_entities=False))
    if root.tag == f"{{{NS['sm']}}}sitemapindex":
        return [pair for loc in root.findall("sm:sitemap/sm:loc", NS) for pair in sitemap_urls(loc.text)]
    return [
        (node.findtext("sm:loc", namespaces=NS), node.findtext("news:news/news:publication_date", namespaces=NS))
        for node in root.findall("sm:url", NS)
    ]


def section_links(url: str) -> list[str]:
    page = fetch(url)
    tree = lxml.html.fromstring(page.text())
    return [urljoin(url, href) for href in tree.xpath("//a/@href")]


def discovery(registry: dict) -> dict[str, list[str]]:
    """Route ("feed:URL", "sitemap:URL", "section:URL") -> article links found there."""
    routes: dict[str, list[str]] = {}
    for outlet in registry.values():
        for url in outlet.get("feeds", []):
            routes[f"feed:{url}"] = feed_links(url)
        for url in outlet.get("sitemaps", []):
            routes[f"sitemap:{url}"] = [loc for loc, _ in sitemap_urls(url)]
        for url in outlet.get("sections", []):
            routes[f"section:{url}"] = section_links(url)
    return routes


def test_manifest_covers_both_outlets_three_languages_and_the_awkward_cases(articles):
    counts = Counter((a.outlet, a.language) for a in articles)
    assert counts[("france24", "fr")] >= 5 and counts[("france24", "en")] >= 5
    assert counts[("france24", "ar")] >= 5 and counts[("meo", "ar")] >= 5 and counts[("meo", "en")] >= 2
    assert len({a.url for a in articles}) == len(articles)
    assert [a for a in articles if not a.stored], "a page without article text"
    assert any(not a.concepts for a in articles if a.stored), "negatives for keyword flagging"
    duplicates = [a for a in articles if a.duplicate_of]
    # The Arabic Tuareg story, and the English FLA-JNIM story the watch rules are tested on.
    assert len(duplicates) == 2 and {d.outlet for d in duplicates} == {"meo"}
    assert {d.language for d in duplicates} == {"ar", "en"}
    for duplicate in duplicates:
        original = next(a for a in articles if a.url == duplicate.duplicate_of)
        assert original.outlet == "france24" and original.title != duplicate.title
        assert set(duplicate.body_phrases) & set(original.body_phrases)


def test_every_article_answers_200_with_its_title(articles):
    for article in articles:
        page = fetch(article.url)
        assert page.status == 200, article.url
        assert article.title in html.unescape(page.text()), article.url


def test_arabic_urls_are_percent_encoded_and_old_style_france24_url_exists(articles):
    arabic = [a for a in articles if a.language == "ar"]
    assert all(a.url.isascii() and "%D9" in a.url.upper() for a in arabic)
    f24_paths = [urlsplit(a.url).path for a in arabic if a.outlet == "france24"]
    assert any(path.count("/") == 2 for path in f24_paths), "an /ar/{YYYYMMDD}-{slug} URL"


def test_pages_carry_the_outlet_markup_with_dates_consistent_with_the_manifest(articles):
    paris = ZoneInfo("Europe/Paris")
    for article in articles:
        tree = lxml.html.fromstring(fetch(article.url).text())
        assert tree.xpath("//time/@datetime"), article.url
        assert datetime.fromisoformat(tree.xpath("//time/@datetime")[0]) == article.published_at
        assert NOW - timedelta(days=3) < article.published_at <= NOW
        if article.outlet == "france24" and article.stored:
            assert article.published_at.astimezone(paris).strftime("/%Y%m%d-") in article.url
            assert tree.cssselect("h1.t-content__title")[0].text_content() == article.title
            ld = json.loads(tree.xpath("//script[@type='application/ld+json']/text()")[0])
            assert ld["@type"] == "NewsArticle" and ld["headline"] == article.title
            assert datetime.fromisoformat(ld["datePublished"]) == article.published_at
            locale = tree.xpath("//meta[@property='og:locale']/@content")[0]
            assert locale == {"fr": "fr_FR", "en": "en_US", "ar": "ar_AR"}[article.language]
            if article.author:
                assert tree.cssselect("a.m-from-author__name")[0].text_content() == article.author


def test_published_times_are_spread_over_the_last_days(articles):
    days = {a.published_at.date() for a in articles}
    assert len(days) >= 3


def test_body_phrases_sit_in_the_body_and_boilerplate_outside_it(articles):
    for article in (a for a in articles if a.stored):
        tree = lxml.html.fromstring(fetch(article.url).text())
        body = " ".join(node.text_content() for node in tree.cssselect(BODY_SELECTOR[article.outlet]))
        page = tree.text_content()
        assert article.body_phrases and all(p in body for p in article.body_phrases), article.url
        assert article.boilerplate_phrases
        for phrase in article.boilerplate_phrases:
            assert phrase in page and phrase not in body, (article.url, phrase)


def test_windows_1256_page_decodes_as_cp1256(articles):
    pages = [(a, fetch(a.url)) for a in articles if a.outlet == "meo"]
    legacy = [(a, p) for a, p in pages if p.headers.get_content_charset() == "windows-1256"]
    assert len(legacy) == 1
    article, page = legacy[0]
    with pytest.raises(UnicodeDecodeError):
        page.body.decode("utf-8")
    text = page.body.decode("cp1256")
    assert article.title in html.unescape(text)
    assert '<meta charset="windows-1256">' in text


def test_feeds_parse_and_list_only_urls_that_exist(registry):
    feeds = [url for outlet in registry.values() for url in outlet["feeds"]]
    assert len(feeds) >= 8
    for feed in feeds:
        links = feed_links(feed)
        assert links, feed
        for link in links:
            assert fetch(link).status == 200, (feed, link)


def test_atom_feed_and_gzipped_sitemap_behind_an_index(registry):
    atom = [url for url in registry["meo"]["feeds"] if url.endswith(".atom")]
    assert atom and feedparser.parse(fetch(atom[0]).body).version == "atom10"
    index = next(url for url in registry["france24"]["sitemaps"] if url.endswith("index.xml"))
    root = lxml.etree.fromstring(fetch(index).body)
    children = [loc.text for loc in root.iter(f"{{{NS['sm']}}}loc")]
    gz = next(url for url in children if url.endswith(".gz"))
    assert fetch(gz).body[:2] == b"\x1f\x8b"
    assert sitemap_urls(gz)


def test_every_article_is_reachable_from_a_feed_sitemap_or_section(registry, articles):
    routes = discovery(registry)
    found: Counter[str] = Counter()
    for links in routes.values():
        found.update({strip_query(link) for link in links})
    missing = [a.url for a in articles if a.url not in found]
    assert not missing
    assert sum(1 for a in articles if found[a.url] > 1) >= 10, "several articles by more than one route"


def test_feed_and_sitemap_dates_match_the_articles(registry, articles):
    published = {a.url: a.published_at for a in articles}
    checked = 0
    for outlet in registry.values():
        for feed in outlet["feeds"]:
            for entry in feedparser.parse(fetch(feed).body).entries:
                url = strip_query(entry.link)
                if url in published:
                    assert datetime(*entry.published_parsed[:6], tzinfo=UTC) == published[url], url
                    checked += 1
        for sitemap in outlet.get("sitemaps", []):
            for loc, date in sitemap_urls(sitemap):
                assert date is not None
                assert datetime.fromisoformat(date) == published[loc], loc
                checked += 1
    assert checked >= len(articles)


def test_same_article_linked_with_and_without_tracking_parameters(registry, articles):
    routes = discovery(registry)
    tracked = {
        link
        for route, links in routes.items()
        if route.startswith("feed:")
        for link in links
        if "xtor=" in link or "utm_source=" in link
    }
    manifest = {a.url for a in articles}
    assert tracked and {strip_query(link) for link in tracked} <= manifest
    section_urls = {link for route, links in routes.items() if route.startswith("section:") for link in links}
    assert {strip_query(link) for link in tracked} & section_urls


def test_article_under_a_second_section_points_to_its_canonical_url(registry, articles):
    manifest = {a.url for a in articles}
    routes = discovery({"france24": registry["france24"]})
    linked = {strip_query(link) for links in routes.values() for link in links}
    aliases = []
    for url in linked - manifest:
        page = fetch(url)
        if page.status != 200 or "html" not in page.headers.get_content_type():
            continue
        canonical = lxml.html.fromstring(page.text()).xpath("//link[@rel='canonical']/@href")
        if canonical and canonical[0] != url and canonical[0] in manifest:
            aliases.append((url, canonical[0]))
    assert len(aliases) == 1
    alias, canonical = aliases[0]
    assert urlsplit(alias).netloc == urlsplit(canonical).netloc
    assert alias.rsplit("/", 1)[1] == canonical.rsplit("/", 1)[1]


def test_page_without_article_text_is_linked_by_a_feed_under_an_allowed_looking_url(registry, articles):
    empty = [a for a in articles if not a.stored]
    routes = discovery(registry)
    feed_urls = {strip_query(link) for r, links in routes.items() if r.startswith("feed:") for link in links}
    for article in empty:
        assert article.url in feed_urls
        assert fetch(article.url).status == 200
        outlet = registry[article.outlet]
        assert not any(deny in article.url for deny in outlet.get("deny", []))


def test_a_feed_links_to_another_outlets_host(replay, registry):
    f24_host = urlsplit(replay.base_url("france24")).netloc
    foreign = [
        link for url in registry["france24"]["feeds"] for link in feed_links(url) if urlsplit(link).netloc != f24_host
    ]
    assert foreign
    meo_discovery = {
        strip_query(link) for route, links in discovery({"meo": registry["meo"]}).items() for link in links
    }
    assert not set(foreign) & meo_discovery, "only the other outlet's feed leads there"


def test_robots_txt_disallows_a_path_that_a_section_page_links_to(replay, registry, articles):
    manifest = {a.url for a in articles}
    for outlet, entry in registry.items():
        robots = fetch(replay.base_url(outlet) + "/robots.txt")
        assert robots.status == 200
        disallowed = [
            line.split(":", 1)[1].strip() for line in robots.text().splitlines() if line.startswith("Disallow:")
        ]
        assert len(disallowed) == 1
        linked = [link for section in entry["sections"] for link in section_links(section)]
        blocked = [link for link in linked if urlsplit(link).path.startswith(quote(disallowed[0]))]
        assert blocked, outlet
        assert not set(blocked) & manifest


def test_conditional_get_answers_304(registry):
    documents = [url for outlet in registry.values() for url in outlet["feeds"] + outlet.get("sitemaps", [])]
    for url in documents:
        first = fetch(url)
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert etag and modified, url
        assert fetch(url, {"If-None-Match": etag}).status == 304
        assert fetch(url, {"If-None-Match": etag}).body == b""
        assert fetch(url, {"If-Modified-Since": modified}).status == 304
        assert fetch(url, {"If-None-Match": '"stale"'}).status == 200
        earlier = parsedate_to_datetime(modified) - timedelta(hours=1)
        assert fetch(url, {"If-Modified-Since": earlier.strftime("%a, %d %b %Y %H:%M:%S GMT")}).status == 200


def test_request_log_records_every_request_as_sent(replay, articles):
    replay.reset_requests()
    article = next(a for a in articles if a.outlet == "meo" and a.language == "ar")
    target = urlsplit(article.url).path + "?utm_source=x"
    assert fetch(replay.base_url("meo") + target).status == 200
    assert fetch(replay.base_url("france24") + "/no/such/page", method="HEAD").status == 404
    records = list(replay.requests)
    assert [(r.outlet, r.method, r.path, r.status) for r in records] == [
        ("meo", "GET", target, 200),
        ("france24", "HEAD", "/no/such/page", 404),
    ]
    assert records[0].headers["Host"] == urlsplit(replay.base_url("meo")).netloc
    replay.reset_requests()
    assert replay.requests == []


def test_sources_file_points_at_this_server(replay, tmp_path):
    path = replay.write_sources(tmp_path / "sources.yaml")
    outlets = yaml.safe_load(path.read_text(encoding="utf-8"))["outlets"]
    assert set(outlets) == {"france24", "meo"}
    for outlet_id, outlet in outlets.items():
        assert outlet["name"]
        urls = outlet.get("feeds", []) + outlet.get("sitemaps", []) + outlet.get("sections", [])
        assert urls and all(url.startswith(replay.base_url(outlet_id) + "/") for url in urls)


def test_two_servers_run_at_once_with_their_own_dates(replay):
    later = NOW + timedelta(days=10)
    with ReplayServer(now=later) as other:
        assert other.base_url("france24") != replay.base_url("france24")
        newest = max(other.expected_articles(), key=lambda a: a.published_at)
        assert fetch(newest.url).status == 200
        assert newest.published_at > NOW + timedelta(days=6)
        assert fetch(replay.base_url("france24") + "/robots.txt").status == 200
    assert fetch(replay.base_url("france24") + "/robots.txt").status == 200


def test_naive_now_is_rejected():
    with pytest.raises(ValueError, match="aware"):
        ReplayServer(now=datetime(2025, 1, 1))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="?#%"), max_size=40))
def test_request_paths_decode_whether_percent_encoded_or_raw(segment):
    path = "/" + segment
    assert decode_path(quote(path, safe="/")) == path
    assert decode_path(quote(path, safe="/") + "?xtor=RSS-1#top") == path
    # A client that sends raw UTF-8 bytes: http.server hands them over decoded as latin-1.
    assert decode_path(path.encode("utf-8").decode("latin-1")) == path
