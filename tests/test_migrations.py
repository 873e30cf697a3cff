"""Migrations: every revision goes up and down on SQLite and PostgreSQL, the models match the
migrated schema, old databases are refused with the command to run, and `sahel db` works."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect, text

from sahel_crawler.commands.db import db
from storage import schema
from storage.db import DatabaseError, make_engine, open_database
from storage.models import Base
from storage.schema import SchemaOutOfDate
from tests.test_postgres_storage import BACKENDS, fill, throwaway_database

pytestmark = pytest.mark.timeout(120)
VIEWS = {"article_keywords", "daily_concept_counts", "daily_place_counts", "stories", "concept_pairs"}


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    with throwaway_database(request.param, tmp_path, request) as url:
        yield url


def _objects(db_url: str) -> tuple[set[str], set[str]]:
    """Tables and their columns ("table" and "table.column"), and views."""
    engine = make_engine(db_url)
    with engine.connect() as connection:
        inspector = inspect(connection)
        names = set(inspector.get_table_names()) - {"alembic_version"}
        # a migration may add a column to a table as well as tables and views
        columns = {f"{name}.{column['name']}" for name in names for column in inspector.get_columns(name)}
        views = set(inspector.get_view_names())
    engine.dispose()
    return names | columns, views


def test_every_migration_goes_up_and_down(db_url: str) -> None:
    revisions = schema.known_revisions()
    assert revisions[-1] == schema.head_revision()
    seen: list[tuple[set[str], set[str]]] = [_objects(db_url)]
    for revision in revisions:
        schema.upgrade(db_url, revision)
        seen.append(_objects(db_url))
        assert seen[-1] != seen[-2], f"{revision} changed nothing visible"
    tables, views = seen[-1]
    assert set(schema.target_metadata().tables) <= tables and views == VIEWS  # tables: names and columns
    fill(db_url)  # the head schema holds real data...
    for revision, expected in zip(reversed(["base", *revisions[:-1]]), reversed(seen[:-1]), strict=True):
        schema.downgrade(db_url, revision)  # ...and every step down drops exactly what it made
        assert _objects(db_url) == expected, revision
    assert _objects(db_url) == (set(), set())
    schema.upgrade(db_url)
    assert schema.current_revision(make_engine(db_url)) == schema.head_revision()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_models_match_the_migrated_schema(db_url: str) -> None:
    engine = open_database(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": schema.autogenerate_include, "compare_type": True}
        )
        differences = compare_metadata(context, schema.target_metadata())
    engine.dispose()
    assert differences == [], "a model changed without a migration: add a revision in storage/migrations/versions"


def test_open_database_creates_the_schema_once_then_checks_it(db_url: str) -> None:
    engine = open_database(db_url)
    assert schema.current_revision(engine) == schema.head_revision()
    engine.dispose()
    open_database(db_url).dispose()  # a second open finds it up to date


def test_an_out_of_date_database_is_refused_with_the_command_to_run(db_url: str) -> None:
    schema.upgrade(db_url, schema.known_revisions()[0])
    with pytest.raises(SchemaOutOfDate, match=r"run `sahel db upgrade --db .+`") as raised:
        open_database(db_url)
    assert isinstance(raised.value, DatabaseError)
    result = CliRunner().invoke(db, ["current", "--db", db_url])
    assert result.exit_code == 0 and "run `sahel db upgrade`" in result.output
    result = CliRunner().invoke(db, ["upgrade", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert f"to {schema.head_revision()}" in result.output
    open_database(db_url).dispose()
    assert CliRunner().invoke(db, ["current", "--db", db_url]).output.startswith(f"{schema.head_revision()} (head")


def test_a_database_from_before_migrations_is_adopted_by_db_upgrade(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'legacy.db'}"
    engine = make_engine(db_url)
    tables = [t for name, t in schema.target_metadata().tables.items() if name != "article_search"]
    Base.metadata.create_all(engine, tables=tables)  # how open_database used to make the schema
    engine.dispose()
    fill_error = pytest.raises(SchemaOutOfDate, match="created before schema migrations")
    with fill_error:
        open_database(db_url)
    result = CliRunner().invoke(db, ["upgrade", "--db", db_url])
    assert result.exit_code == 0 and "from nothing to" in result.output
    fill(db_url)
    result = CliRunner().invoke(db, ["upgrade", "--db", db_url])
    assert result.output.splitlines() == [
        f"schema already at {schema.head_revision()}",
        "search index: 5 articles indexed",
    ]


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'newer.db'}"
    open_database(db_url).dispose()
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(SchemaOutOfDate, match="newer than this sahel knows"):
        open_database(db_url)
    result = CliRunner().invoke(db, ["upgrade", "--db", db_url])
    assert result.exit_code == 1 and "9999_future" in result.output


def test_db_commands_report_unusable_databases() -> None:
    result = CliRunner().invoke(db, ["current", "--db", "nosuchdriver://x"])
    assert result.exit_code == 2 and "sahel: error:" in result.output
    result = CliRunner().invoke(db, ["upgrade", "--db", "postgresql+psycopg://nobody@127.0.0.1:9/none"])
    assert result.exit_code == 1 and "cannot upgrade database" in result.output
