"""End to end: duplicates and incremental crawling against the replay.

Three crawls of the replay into one database: a first crawl, a second one of the unchanged
outlets, then `--refresh`. Then an exact copy of an article under another URL, on a replay
variant that serves one.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from sahel_crawler.replay import ReplayServer
from sahel_crawler.replay.bundled import build_bundled_site
from sahel_crawler.replay.render import encode_path
from sahel_crawler.replay.server import RequestRecord
from sahel_crawler.replay.site import BuiltSite, Resource
from tests.conftest import REPLAY_NOW, CliResult, crawl_replay, run_sahel

pytestmark = pytest.mark.slow

DISCOVERY_PATHS = ("/rss", "/rss.xml", "/feed.atom", ".xml", ".xml.gz")


def crawl(sources: Path, db: Path, *extra: str) -> CliResult:
    result = crawl_replay(sources, f"sqlite:///{db}", *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def export(db: Path) -> dict[str, dict]:
    result = run_sahel("export", "--db", f"sqlite:///{db}", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return {r["url"]: r for r in map(json.loads, result.stdout.splitlines())}


def last_run(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone())


def article_rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, url, fetched_at, updated_at FROM articles ORDER BY id").fetchall()


def is_discovery(record: RequestRecord) -> bool:
    return record.path.split("?")[0].endswith(DISCOVERY_PATHS)


def served_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.hostname or "", unquote(parts.path)


def requested_articles(replay: ReplayServer, requests: list[RequestRecord]) -> Counter:
    """How often each stored article of the replay was requested, by (outlet, decoded path)."""
    hosts = {outlet: urlsplit(replay.base_url(outlet)).hostname for outlet in replay.hosts}
    wanted = {served_path(e.url) for e in replay.expected_articles() if e.stored}
    seen = Counter((hosts[r.outlet], unquote(r.path.split("?")[0])) for r in requests)
    return Counter({key: seen[key] for key in wanted})


@pytest.fixture(scope="module")
def crawls(replay: ReplayServer, replay_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A first crawl, a second crawl and a `--refresh` crawl into one database."""
    db = tmp_path_factory.mktemp("incremental") / "sahel.db"
    out: dict = {"db": db}
    for name, extra in (("first", ()), ("second", ()), ("refresh", ("--refresh",))):
        replay.reset_requests()
        crawl(replay_sources, db, *extra)
        out[name] = {
            "requests": list(replay.requests),
            "run": last_run(db),
            "rows": article_rows(db),
            "export": export(db),
        }
    yield out


def test_tracking_variants_of_a_feed_link_store_one_article(replay: ReplayServer, crawls: dict) -> None:
    first = crawls["first"]
    feed = next(r for r in first["requests"] if r.path == "/fr/rss")
    assert feed.status == 200
    tracked = [p for p in _feed_links(replay, "france24", "/fr/rss") if "xtor=" in p]
    assert tracked, "the replay's French feed links an article with tracking parameters"
    stored = first["export"]
    for link in tracked:
        canonical = link.split("?")[0]
        assert canonical in stored
        assert not [u for u in stored if u != canonical and u.split("?")[0] == canonical]
    assert not [r.path for r in first["requests"] if "xtor=" in r.path or "utm_" in r.path]
    assert all(n == 1 for n in requested_articles(replay, first["requests"]).values())
    assert len(stored) == len([e for e in replay.expected_articles() if e.stored])


def _feed_links(replay: ReplayServer, outlet: str, path: str) -> list[str]:
    body = replay.built.sites[outlet].get(path).body.decode("utf-8")
    base = replay.base_url(outlet)
    return [line.split("<link>")[1].split("</link>")[0].replace("&amp;", "&")
            for line in body.splitlines() if "<link>" in line and base in line]  # fmt: skip


def test_syndicated_copy_is_stored_with_duplicate_of(replay: ReplayServer, crawls: dict) -> None:
    stored = crawls["first"]["export"]
    copies = [e for e in replay.expected_articles() if e.duplicate_of]
    assert copies, "the replay has a syndicated copy"
    for expected in replay.expected_articles():
        if expected.stored:
            assert stored[expected.url]["duplicate_of"] == expected.duplicate_of, expected.url
    assert crawls["first"]["run"]["near_duplicates"] == len(copies)


def test_second_crawl_fetches_no_stored_article_and_adds_no_rows(replay: ReplayServer, crawls: dict) -> None:
    first, second = crawls["first"], crawls["second"]
    assert sum(requested_articles(replay, second["requests"]).values()) == 0
    assert second["rows"] == first["rows"]
    run = second["run"]
    assert (run["status"], run["new_articles"], run["errors"]) == ("finished", 0, 0)
    assert run["skipped_seen"] > 0
    assert run["requests"] < first["run"]["requests"]


def test_unchanged_feeds_and_sitemaps_answer_304(crawls: dict) -> None:
    discovery = [r for r in crawls["second"]["requests"] if is_discovery(r)]
    assert discovery
    for record in discovery:
        assert "If-None-Match" in record.headers, record.path
        assert record.status == 304, record.path
    assert crawls["second"]["run"]["not_modified"] == len(discovery)
    assert not [r for r in crawls["first"]["requests"] if "If-None-Match" in r.headers]


def test_refresh_refetches_stored_articles_without_new_rows(replay: ReplayServer, crawls: dict) -> None:
    refresh = crawls["refresh"]
    fetched = requested_articles(replay, refresh["requests"])
    assert fetched and all(n >= 1 for n in fetched.values()), [k for k, n in fetched.items() if not n]
    assert not [r.path for r in refresh["requests"] if "If-None-Match" in r.headers]
    assert [row[:2] for row in refresh["rows"]] == [row[:2] for row in crawls["first"]["rows"]]
    run = refresh["run"]
    assert (run["new_articles"], run["updated_articles"], run["skipped_seen"], run["not_modified"]) == (0, 0, 0, 0)
    assert refresh["export"] == crawls["first"]["export"]


# -- an exact copy under another URL ----------------------------------------------------------

ORIGINAL_ONLY, BOTH = "/fr/copies-1/", "/fr/copies-2/"


def _site_with_an_exact_copy(base_urls: Mapping[str, str], now: datetime) -> BuiltSite:
    """The bundled site plus a French article served again under another section, declaring
    itself canonical; one section page links the original, another links both."""
    built = build_bundled_site(base_urls, now)
    base = base_urls["france24"]
    original = next(e for e in built.articles if e.outlet == "france24" and e.language == "fr" and e.stored)
    path = unquote(urlsplit(original.url).path)
    copy_path = "/fr/monde/" + path.rsplit("/", 1)[1]
    copy_url = base + encode_path(copy_path)
    site = built.sites["france24"]
    page = site.get(path)
    site.add(copy_path, Resource(page.body.replace(original.url.encode(), copy_url.encode()), page.content_type))
    for section, urls in ((ORIGINAL_ONLY, [original.url]), (BOTH, [original.url, copy_url])):
        links = "".join(f'<li><a href="{u}">{original.title}</a></li>' for u in urls)
        html = f"<!DOCTYPE html><html lang='fr'><head><title>Copies</title></head><body><ul>{links}</ul></body></html>"
        site.add(section, Resource(html.encode(), "text/html; charset=utf-8"))
    built.articles = [original]
    return built


@pytest.fixture(scope="module")
def copy_replay() -> Iterator[ReplayServer]:
    with ReplayServer(now=REPLAY_NOW, site_builder=_site_with_an_exact_copy) as server:
        yield server


def _sources_with_section(replay: ReplayServer, section: str, path: Path) -> Path:
    france24 = yaml.safe_load(replay.sources_yaml())["outlets"]["france24"]
    for key in ("feeds", "sitemaps"):
        france24.pop(key, None)
    france24["sections"] = [replay.base_url("france24") + section]
    path.write_text(yaml.safe_dump({"outlets": {"france24": france24}}, allow_unicode=True))
    return path


def test_exact_copy_under_another_url_becomes_an_alias(copy_replay: ReplayServer, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    (original,) = copy_replay.expected_articles()
    crawl(_sources_with_section(copy_replay, ORIGINAL_ONLY, tmp_path / "one.yaml"), db)
    both = _sources_with_section(copy_replay, BOTH, tmp_path / "both.yaml")

    crawl(both, db)
    stored = export(db)
    assert list(stored) == [original.url]
    (alias,) = stored[original.url]["aliases"]
    assert "/fr/monde/" in alias
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT reason FROM article_aliases").fetchall() == [("exact_duplicate",)]
    assert (last_run(db)["exact_duplicates"], last_run(db)["new_articles"]) == (1, 0)

    copy_replay.reset_requests()
    crawl(both, db)
    assert [r.path for r in copy_replay.requests if r.path != BOTH and "/fr/" in r.path] == []
    assert last_run(db)["skipped_seen"] == 2


# -- a listed page that failed ------------------------------------------------------------------


@pytest.fixture
def own_replay() -> Iterator[ReplayServer]:
    with ReplayServer(now=REPLAY_NOW) as server:
        yield server


def _sources_without_sections(replay: ReplayServer, path: Path) -> Path:
    outlets = yaml.safe_load(replay.sources_yaml())["outlets"]
    for outlet in outlets.values():
        outlet.pop("sections", None)  # found again through a section page, it would prove nothing
    path.write_text(yaml.safe_dump({"outlets": outlets}, allow_unicode=True))
    return path


def test_a_listed_page_that_failed_is_asked_for_by_the_next_crawl(own_replay: ReplayServer, tmp_path: Path) -> None:
    # The page answers 503 in the first crawl: its feed or sitemap must not be remembered as
    # read, or the next crawl gets 304 for it and never asks for the page again.
    db, sources = tmp_path / "sahel.db", _sources_without_sections(own_replay, tmp_path / "sources.yaml")
    article = next(e for e in own_replay.expected_articles() if e.outlet == "france24" and e.stored)
    site, path = own_replay.built.sites["france24"], unquote(urlsplit(article.url).path)
    page = site.get(path)
    assert page is not None
    site.resources[path] = Resource(b"busy", "text/plain", status=503)
    crawl(sources, db)
    assert article.url not in export(db)
    assert last_run(db)["errors"] >= 1

    site.resources[path] = page
    own_replay.reset_requests()
    crawl(sources, db)
    assert article.url in export(db)
    # the other listings were remembered: only what led to the failed page was read again
    assert any(r.status == 304 for r in own_replay.requests)
