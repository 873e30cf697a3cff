"""The crawl lock (one crawl per outlet and database) and the lock primitive under it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sahel_crawler.locking import CrawlAlreadyRunning, acquire_crawl_lock
from storage.locks import LockHeld, database_lock, describe_lock


def test_a_second_crawl_of_the_same_outlet_is_refused_and_says_where_the_lock_is(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/sahel.db"
    with acquire_crawl_lock(db, ["france24", "meo"]) as where:
        assert where == [f"{tmp_path}/sahel.db.locks/crawl-france24.lock", f"{tmp_path}/sahel.db.locks/crawl-meo.lock"]
        with pytest.raises(CrawlAlreadyRunning) as info, acquire_crawl_lock(db, ["meo"]):
            pass
        message = str(info.value)
        assert message.startswith("already running")
        assert "meo" in message
        assert "sahel.db.locks/crawl-meo.lock" in message


def test_crawls_of_other_outlets_or_databases_run_side_by_side(tmp_path: Path) -> None:
    with acquire_crawl_lock(f"sqlite:///{tmp_path}/a.db", ["meo"]):
        with acquire_crawl_lock(f"sqlite:///{tmp_path}/a.db", ["france24"]):
            pass
        with acquire_crawl_lock(f"sqlite:///{tmp_path}/b.db", ["meo"]):
            pass


def test_a_refused_crawl_holds_nothing_and_locks_are_free_after_release(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/sahel.db"
    with acquire_crawl_lock(db, ["meo"]):
        with pytest.raises(CrawlAlreadyRunning), acquire_crawl_lock(db, ["france24", "meo"]):
            pass
        with acquire_crawl_lock(db, ["france24"]):  # not left held by the refused attempt
            pass
    with acquire_crawl_lock(db, ["france24", "meo"]):
        pass


def test_lock_held_by_another_process_names_its_pid(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/sahel.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from storage.locks import database_lock\nwith database_lock({db!r}, 'x'):\n"
         "    print('held', flush=True)\n    input()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld) as info, database_lock(db, "x"):
            pass
        assert f"pid {holder.pid}" in str(info.value)
    finally:
        holder.communicate("\n", timeout=10)
    with database_lock(db, "x"):  # released when the holder exits
        pass


@pytest.mark.postgres
def test_postgresql_uses_an_advisory_lock(postgres_url: str) -> None:
    assert describe_lock(postgres_url, "x").startswith("PostgreSQL advisory lock")
    name = "test-lock"
    with database_lock(postgres_url, name), pytest.raises(LockHeld) as info, database_lock(postgres_url, name):
        pass
    assert "pid" in str(info.value)
    with database_lock(postgres_url, "test-lock"):
        pass


@pytest.mark.postgres
def test_a_lock_is_taken_on_a_database_whose_schema_is_out_of_date(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from sqlalchemy import create_engine, text

    from tests.test_postgres_storage import throwaway_database

    with throwaway_database("postgresql", tmp_path, request) as url:
        setup = create_engine(url)
        with setup.begin() as connection:  # a revision this code does not know
            connection.execute(text("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)"))
            connection.execute(text("INSERT INTO alembic_version VALUES ('0000_older')"))
        setup.dispose()
        with database_lock(url, "scheduler") as where:
            assert where.startswith("PostgreSQL advisory lock")
