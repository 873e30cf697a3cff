"""The analysts' interface: views give the documented answers on SQLite and PostgreSQL, every
example query of docs/schema.md runs, every table, column and view is documented, the read-only
role cannot write, and the Datasette metadata's canned queries work."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from storage.db import open_database
from tests.conftest import REPO
from tests.test_postgres_storage import BACKENDS, fill, throwaway_database

DOCS = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
METADATA = REPO / "sahel_crawler" / "datasette_metadata.yml"
SQL_BLOCK = re.compile(r"```sql( [a-z-]+)?\n(.*?)```", re.S)


@pytest.fixture(scope="module", params=BACKENDS)
def filled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with throwaway_database(request.param, tmp_path_factory.mktemp("views"), request) as url:
        fill(url)
        engine = open_database(url)
        yield engine
        engine.dispose()


def _rows(engine, sql: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_article_keywords_has_one_row_per_article_and_concept(filled) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(filled, "SELECT url, concept_id, mentions, CAST(day AS TEXT), story_id FROM article_keywords")
    assert len(rows) == 9
    by_key = {(r[0], r[1]): r for r in rows}
    assert by_key[("https://f24.example/ar/1", "azawad")][2:4] == (2, "2026-11-20")
    # no publication date: the fetch day counts
    assert by_key[("https://bbc.example/en/5", "niger")][3] == "2026-11-20"
    original = by_key[("https://f24.example/fr/3", "mali")][4]
    assert by_key[("https://meo.example/fr/4", "mali")][4] == original


def test_daily_concept_counts(filled) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(
        filled,
        "SELECT CAST(day AS TEXT), SUM(articles), SUM(mentions) FROM daily_concept_counts "
        "WHERE concept_id = 'azawad' GROUP BY day ORDER BY day",
    )
    assert rows == [("2026-11-17", 2, 2), ("2026-11-20", 1, 2), ("2026-11-21", 1, 1)]
    rows = _rows(
        filled,
        "SELECT outlet_id, articles, stories FROM daily_concept_counts "
        "WHERE concept_id = 'mali' AND CAST(day AS TEXT) = '2026-11-17' ORDER BY outlet_id",
    )
    assert rows == [("france24", 1, 1), ("meo", 1, 1)]  # the syndicated copy counts with its outlet


def test_stories_collapse_near_duplicates(filled) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(filled, "SELECT url, articles, outlets, outlet_ids FROM stories ORDER BY story_id")
    assert len(rows) == 4
    shared = [r for r in rows if r[2] > 1]
    assert len(shared) == 1 and shared[0][:3] == ("https://f24.example/fr/3", 2, 2)
    assert sorted(shared[0][3].split(",")) == ["france24", "meo"]


def test_concept_pairs_counts_stories_naming_both_per_day(filled) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(filled, "SELECT CAST(day AS TEXT), concept_a, concept_b, stories FROM concept_pairs ORDER BY day")
    assert rows == [
        ("2026-11-17", "azawad", "mali", 1),  # the original and its syndicated copy: one story
        ("2026-11-20", "azawad", "kidal", 1),
        ("2026-11-21", "azawad", "mali", 1),
    ]


def test_every_example_query_in_the_docs_runs(filled) -> None:  # type: ignore[no-untyped-def]
    dialect = filled.dialect.name
    ran = 0
    for label, sql in SQL_BLOCK.findall(DOCS):
        if label.strip() in ("", dialect):
            _rows(filled, sql)
            ran += 1
    assert ran >= 6


def test_every_table_column_and_view_is_documented(filled) -> None:  # type: ignore[no-untyped-def]
    with filled.connect() as connection:
        inspector = inspect(connection)
        names = [n for n in inspector.get_table_names() if not n.startswith("article_search_fts_")]
        names += inspector.get_view_names()
        for name in names:
            assert f"`{name}`" in DOCS, f"{name} is not in docs/schema.md"
            for column in inspector.get_columns(name):
                assert f"`{column['name']}`" in DOCS, f"{name}.{column['name']} is not in docs/schema.md"


@pytest.mark.postgres
def test_the_documented_analyst_role_reads_but_cannot_write(postgres_url: str, tmp_path: Path, request) -> None:  # type: ignore[no-untyped-def]
    block = next(sql for label, sql in SQL_BLOCK.findall(DOCS) if label.strip() == "postgresql-admin")
    role = f"analyst_t7_{uuid.uuid4().hex[:8]}"
    with throwaway_database("postgresql", tmp_path, request) as url:
        fill(url)
        database = make_url(url).database
        sql = block.replace("analyst", role).replace("DATABASE sahel", f'DATABASE "{database}"')
        sql = sql.replace("FOR ROLE sahel", "FOR ROLE postgres")
        owner = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with owner.connect() as connection:
                for statement in filter(str.strip, sql.split(";")):
                    connection.execute(text(statement))
            reader = create_engine(make_url(url).set(username=role, password="change-me"))
            with reader.connect() as connection:
                assert connection.execute(text("SELECT COUNT(*) FROM stories")).scalar() == 4
                with pytest.raises(DBAPIError, match="read-only transaction"):
                    connection.execute(text("DELETE FROM articles"))
            reader.dispose()
        finally:
            with owner.connect() as connection:
                connection.execute(text(f'DROP OWNED BY "{role}"'))
                connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            owner.dispose()


def test_datasette_runs_the_canned_queries(tmp_path: Path) -> None:
    datasette_app = pytest.importorskip("datasette.app")
    from sahel_crawler.commands.db import search_normalise
    from storage.db import session_factory
    from storage.search import sync_index

    path = tmp_path / "sahel.db"
    fill(f"sqlite:///{path}")
    engine = open_database(f"sqlite:///{path}")
    sync_index(session_factory(engine), search_normalise)
    engine.dispose()
    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    assert set(metadata["databases"]["demo"]["queries"]) == set(metadata["databases"]["sahel"]["queries"])

    async def query(ds, path: str) -> list[dict]:  # type: ignore[no-untyped-def]
        response = await ds.client.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    async def run() -> dict[str, list[dict]]:
        ds = datasette_app.Datasette([str(path)], metadata=metadata)
        return {
            "stories": await query(ds, "/sahel/stories_across_outlets.json?_shape=array"),
            "daily": await query(ds, "/sahel/daily_concept_counts.json?concept=azawad&_shape=array"),
            "coverage": await query(ds, "/sahel/outlet_coverage_by_month.json?outlet=france24&_shape=array"),
            "week": await query(ds, "/sahel/concept_by_outlet_last_week.json?concept=azawad&_shape=array"),
            "search": await query(ds, "/sahel/search.json?q=ازواد+OR+بازواد&_shape=array"),
        }

    results = asyncio.run(run())
    assert [r["url"] for r in results["stories"]] == ["https://f24.example/fr/3"]
    assert [(r["day"], r["articles"]) for r in results["daily"]] == [
        ("2026-11-17", 2),
        ("2026-11-20", 1),
        ("2026-11-21", 1),
    ]
    assert {(r["month"], r["language"], r["articles"]) for r in results["coverage"]} == {
        ("2026-11", "ar", 1),
        ("2026-11", "fr", 1),
    }
    assert {r["outlet_id"] for r in results["week"]} <= {"france24", "meo"}  # depends on today's date
    assert {r["id"] for r in results["search"]} == {1, 2}
