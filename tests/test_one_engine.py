"""A crawl opens one engine (one connection pool) for its database and checks its schema once."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sahel_crawler.replay import ReplayServer
from tests.conftest import REPO, replay_settings_args

pytestmark = pytest.mark.slow

# Runs `sahel ARGS` with every connection's pool and every schema check counted, by database
# URL; the pools are kept referenced so that a disposed one is never mistaken for a new one.
COUNTING_SAHEL = """
import atexit, json, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
import storage.schema

pools, checks = {}, {}

@event.listens_for(Engine, "engine_connect")
def _seen(connection):
    seen = pools.setdefault(connection.engine.url.database, [])
    if all(pool is not connection.engine.pool for pool in seen):
        seen.append(connection.engine.pool)

checked = storage.schema.ensure_schema
def _counted(engine):
    checks[engine.url.database] = checks.get(engine.url.database, 0) + 1
    checked(engine)
storage.schema.ensure_schema = _counted

def _report():
    with open(sys.argv.pop(1), "w") as out:
        json.dump({"pools": {k: len(v) for k, v in pools.items()}, "checks": checks}, out)
atexit.register(_report)
from sahel_crawler.cli import main
main(args=sys.argv[2:], prog_name="sahel")
"""


def counted_sahel(report: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    """Run `sahel ARGS` under COUNTING_SAHEL; its exit and the counts it wrote to `report`."""
    proc = subprocess.run(
        [sys.executable, "-c", COUNTING_SAHEL, str(report), *args],
        capture_output=True, text=True, timeout=180, cwd=REPO,
    )  # fmt: skip
    return proc, json.loads(report.read_text())


def test_a_crawl_opens_one_engine_for_its_database_and_checks_its_schema_once(
    replay: ReplayServer, replay_sources: Path, tmp_path: Path
) -> None:
    db = tmp_path / "sahel.db"
    proc, counts = counted_sahel(
        tmp_path / "counts.json", "crawl", "--sources", str(replay_sources), "--db", f"sqlite:///{db}",
        *replay_settings_args(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    with sqlite3.connect(db) as stored:
        assert stored.execute("SELECT count(*) FROM articles").fetchone()[0] > 0
    assert counts["pools"] == {str(db): 1}
    assert counts["checks"] == {str(db): 1}


def test_the_demo_crawls_summarises_and_digests_with_one_engine(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    proc, counts = counted_sahel(tmp_path / "counts.json", "demo", "--db-path", str(db))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"database: {db}" in proc.stdout  # the closing lines come after the digest
    assert counts["pools"] == {str(db): 1}
    assert counts["checks"] == {str(db): 1}
