"""End to end: `sahel crawl` of the two-outlet replay on two loopback hosts into SQLite."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from sahel_crawler.replay import ReplayServer
from sahel_crawler.replay.bundled import DISALLOWED, OFFSITE_PATH
from tests.conftest import REPO, crawl_replay, replay_settings_args, run_sahel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawled(replay: ReplayServer, replay_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One crawl of the replay; the database and the export, shared by the tests below."""
    db = tmp_path_factory.mktemp("crawl") / "sahel.db"
    replay.reset_requests()
    result = crawl_replay(replay_sources, f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr[-3000:]
    requests = list(replay.requests)
    export = run_sahel("export", "--db", f"sqlite:///{db}", "--format", "jsonl")
    assert export.returncode == 0, export.stderr
    records = [json.loads(line) for line in export.stdout.splitlines()]
    return {"db": db, "result": result, "records": records, "requests": requests}


def _by_url(records: list[dict]) -> dict[str, dict]:
    return {r["url"]: r for r in records}


def test_every_expected_article_is_stored_once_with_its_metadata(replay: ReplayServer, crawled: dict) -> None:
    stored = _by_url(crawled["records"])
    assert len(stored) == len(crawled["records"]), "an article URL was exported twice"
    for expected in replay.expected_articles():
        if not expected.stored:
            assert expected.url not in stored, f"page without article text was stored: {expected.url}"
            continue
        assert expected.url in stored, f"missing {expected.url}"
        record = stored[expected.url]
        assert record["outlet"] == expected.outlet
        assert record["title"] == expected.title
        assert record["language"] == expected.language, expected.url
        assert record["published_at"] == expected.published_at.isoformat(), expected.url
        for phrase in expected.body_phrases:
            assert phrase in record["text"], f"{expected.url}: body lacks {phrase!r}"
        for phrase in expected.boilerplate_phrases:
            assert phrase not in record["text"], f"{expected.url}: boilerplate {phrase!r} in body"


def test_nothing_but_expected_articles_is_stored(replay: ReplayServer, crawled: dict) -> None:
    expected = {e.url for e in replay.expected_articles() if e.stored}
    assert set(_by_url(crawled["records"])) == expected


def _served_charset(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers.get_content_charset() or ""


def test_windows_1256_page_is_decoded(replay: ReplayServer, crawled: dict) -> None:
    stored = _by_url(crawled["records"])
    cp1256 = [e for e in replay.expected_articles() if e.stored and _served_charset(e.url) == "windows-1256"]
    assert cp1256, "the replay should serve a windows-1256 page"
    for expected in cp1256:
        assert stored[expected.url]["title"] == expected.title
        assert expected.body_phrases[0] in stored[expected.url]["text"]


@pytest.mark.parametrize("route", ["feeds", "sitemaps", "sections"])
def test_each_discovery_route_alone_finds_articles(replay: ReplayServer, tmp_path: Path, route: str) -> None:
    """A registry with only feeds, only sitemaps or only section pages still finds articles."""
    registry = yaml.safe_load(replay.sources_yaml())
    for outlet in list(registry["outlets"].values()):
        for other in {"feeds", "sitemaps", "sections"} - {route}:
            outlet.pop(other, None)
    registry["outlets"] = {k: v for k, v in registry["outlets"].items() if v.get(route)}
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump(registry))
    db = tmp_path / "route.db"
    assert crawl_replay(sources, f"sqlite:///{db}").returncode == 0
    with sqlite3.connect(db) as conn:
        routes = dict(conn.execute("SELECT discovered_via, count(*) FROM articles GROUP BY discovered_via"))
    assert set(routes) == {route.rstrip("s")}
    assert routes[route.rstrip("s")] >= 5


def test_crawler_stays_on_the_outlet_hosts_and_obeys_robots(crawled: dict) -> None:
    requests = crawled["requests"]
    assert {r.outlet for r in requests if r.path == "/robots.txt"} == {"france24", "meo"}
    for outlet, disallowed in DISALLOWED.items():
        assert not [r.path for r in requests if r.outlet == outlet and r.path.startswith(disallowed)]
    # a France 24 feed links to a page on the other outlet's host: not followed
    assert not [r for r in requests if r.path.startswith(OFFSITE_PATH)]


def test_run_record_counts_the_crawl(crawled: dict) -> None:
    with sqlite3.connect(crawled["db"]) as db:
        status, requests, new, no_text = db.execute(
            "SELECT status, requests, new_articles, no_text FROM crawl_runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert status == "finished"
    assert new == stored
    assert requests >= stored
    assert no_text >= 1  # the replay has a page without article text


def test_summary_lists_outlets_and_languages(crawled: dict) -> None:
    out = crawled["result"].stdout
    assert "france24" in out and "meo" in out
    assert "articles in the database" in out


def test_export_contract(crawled: dict) -> None:
    keys = ["url", "outlet", "title", "author", "published_at", "fetched_at", "language", "text",
            "keywords", "duplicate_of", "aliases", "standfirst", "paywalled", "text_source", "places"]  # fmt: skip
    for record in crawled["records"]:
        assert list(record) == keys
        assert record["published_at"].endswith("+00:00")
        assert isinstance(record["keywords"], list)
        assert isinstance(record["aliases"], list)


def test_second_crawl_leaves_the_same_rows(replay_sources: Path, crawled: dict, tmp_path: Path) -> None:
    db = tmp_path / "twice.db"
    for _ in range(2):
        result = crawl_replay(replay_sources, f"sqlite:///{db}")
        assert result.returncode == 0, result.stderr[-2000:]
    export = run_sahel("export", "--db", f"sqlite:///{db}")
    again = sorted(json.loads(line)["url"] for line in export.stdout.splitlines())
    assert again == sorted(r["url"] for r in crawled["records"])
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == len(again)


def test_export_filters_and_csv(crawled: dict, tmp_path: Path) -> None:
    url = f"sqlite:///{crawled['db']}"
    arabic = run_sahel("export", "--db", url, "--lang", "ar", "--outlet", "meo")
    records = [json.loads(line) for line in arabic.stdout.splitlines()]
    assert records and all(r["language"] == "ar" and r["outlet"] == "meo" for r in records)
    out = tmp_path / "all.csv"
    csv_run = run_sahel("export", "--db", url, "--format", "csv", "--out", str(out))
    assert csv_run.returncode == 0
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("url,outlet,title")
    future = run_sahel("export", "--db", url, "--since", "2999-01-01")
    assert future.returncode == 0 and future.stdout == ""


def test_scrapy_crawl_news_works_beside_the_cli(replay_sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "scrapy.db"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-s", f"SAHEL_SOURCES_PATH={replay_sources}",
         "-s", f"SAHEL_DB_URL=sqlite:///{db}", "-s", "SAHEL_PROGRESS_INTERVAL=0", *replay_settings_args()],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] > 0


def test_articles_are_flagged_with_their_concepts(replay: ReplayServer, crawled: dict) -> None:
    stored = _by_url(crawled["records"])
    for expected in replay.expected_articles():
        if expected.stored:
            missing = set(expected.concepts) - set(stored[expected.url]["keywords"])
            assert not missing, f"{expected.url}: not flagged {missing}"


def test_reflag_after_a_lexicon_change(crawled: dict, tmp_path: Path) -> None:
    db = tmp_path / "reflag.db"
    db.write_bytes(Path(crawled["db"]).read_bytes())
    url = f"sqlite:///{db}"
    lexicon = yaml.safe_load((REPO / "sahel_crawler" / "lexicon" / "lexicon.yaml").read_text(encoding="utf-8"))
    # an analyst narrows a concept: Gao only as "Gao city" from now on
    (gao,) = [c for c in lexicon["concepts"] if c["id"] == "gao"]
    gao["forms"] = {"en": ["Gao city"]}
    gao.pop("confirm", None)
    smaller = tmp_path / "lexicon.yaml"
    smaller.write_text(yaml.safe_dump(lexicon, allow_unicode=True), encoding="utf-8")

    result = run_sahel("reflag", "--db", url, "--lexicon", str(smaller))
    assert result.returncode == 0, result.stderr
    assert "changed" in result.stdout
    after = [json.loads(line) for line in run_sahel("export", "--db", url).stdout.splitlines()]
    before = _by_url(crawled["records"])
    assert any("gao" in r["keywords"] for r in before.values())
    assert not any("gao" in r["keywords"] for r in after)
    # nothing else changed: the other concepts are kept
    for record in after:
        assert set(record["keywords"]) == set(before[record["url"]]["keywords"]) - {"gao"}
    again = run_sahel("reflag", "--db", url, "--lexicon", str(smaller))
    assert "reflagged 0 articles" in again.stdout


def test_demo_crawls_the_replay_and_prints_a_digest(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = run_sahel("demo", "--db-path", str(db), timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "articles in the database: " in result.stdout
    assert "# Sahel news digest" in result.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(DISTINCT outlet_id) FROM articles").fetchone()[0] == 2
