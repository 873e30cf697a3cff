"""End to end on PostgreSQL: `sahel crawl` of the replay into a throw-away database, twice,
then `sahel export` (JSONL and Parquet), `sahel search` and the analysts' views on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from sahel_crawler.commands.search import search_command
from sahel_crawler.replay import ReplayServer
from storage.db import open_database
from tests.conftest import crawl_replay, run_sahel
from tests.test_postgres_storage import throwaway_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def crawled_pg(replay: ReplayServer, replay_sources: Path, tmp_path_factory: pytest.TempPathFactory, request):  # type: ignore[no-untyped-def]
    with throwaway_database("postgresql", tmp_path_factory.mktemp("pg"), request) as url:
        for _ in range(2):  # the second crawl must change nothing
            result = crawl_replay(replay_sources, url)
            assert result.returncode == 0, result.stderr[-3000:]
        export = run_sahel("export", "--db", url, "--format", "jsonl")
        assert export.returncode == 0, export.stderr
        yield {"url": url, "records": [json.loads(line) for line in export.stdout.splitlines()]}


def test_the_crawl_stores_every_expected_article_once(replay: ReplayServer, crawled_pg: dict) -> None:
    stored = {r["url"]: r for r in crawled_pg["records"]}
    assert len(stored) == len(crawled_pg["records"])
    expected = {e.url: e for e in replay.expected_articles() if e.stored}
    assert set(stored) == set(expected)
    for url, article in expected.items():
        assert stored[url]["language"] == article.language
        assert stored[url]["published_at"] == article.published_at.isoformat()
    engine = open_database(crawled_pg["url"])
    with engine.connect() as connection:
        runs = connection.execute(text("SELECT status, new_articles FROM crawl_runs ORDER BY id")).all()
        shared = connection.execute(text("SELECT outlet_ids FROM stories WHERE outlets > 1")).scalars().all()
        flagged = connection.execute(text("SELECT COUNT(DISTINCT article_id) FROM article_keywords")).scalar()
    engine.dispose()
    assert [r[0] for r in runs] == ["finished", "finished"] and runs[1][1] == 0
    assert shared and all(ids.split(",") == ["france24", "meo"] for ids in shared)  # the syndicated copy
    assert flagged and flagged >= len(expected) // 2


def test_search_finds_folded_arabic_in_the_crawl(crawled_pg: dict) -> None:
    result = CliRunner().invoke(search_command, ["أزواد", "--db", crawled_pg["url"], "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.output.splitlines()]
    with_word = [r for r in crawled_pg["records"] if "زواد" in (r["title"] or "") + r["text"]]
    assert hits and {h["url"] for h in hits} == {r["url"] for r in with_word}
    assert all(h["language"] == "ar" and "[" in h["snippet"] for h in hits)


def test_parquet_export_of_a_concept(crawled_pg: dict, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "azawad.parquet"
    result = run_sahel(
        "export", "--db", crawled_pg["url"], "--format", "parquet", "--concept", "azawad", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out)
    expected = [r for r in crawled_pg["records"] if "azawad" in r["keywords"]]
    assert table.num_rows == len(expected) > 0
    assert set(table.column("url").to_pylist()) == {r["url"] for r in expected}
