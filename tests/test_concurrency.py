"""Concurrency: two crawls of the same outlets started at once into one SQLite database, while four
analyst processes query it for the whole time. No "database is locked" on either side, no
duplicate, no crash; one crawl says "already running"."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sahel_crawler.replay import ReplayServer
from tests.conftest import replay_settings_args, start_sahel

pytestmark = pytest.mark.slow

READERS = 4
# An analyst's read-only session: every query of docs/schema.md's kind, in a loop, until told to stop.
READER = r"""
import sqlite3, sys, time, pathlib
db, stop = sys.argv[1], pathlib.Path(sys.argv[2])
queries = [
    "SELECT count(*) FROM articles",
    "SELECT a.outlet_id, a.language, count(*) FROM articles a GROUP BY 1, 2",
    "SELECT k.concept_id, count(*) FROM keyword_hits k JOIN articles a ON a.id = k.article_id GROUP BY 1",
    "SELECT status, requests, errors FROM crawl_runs ORDER BY id DESC LIMIT 5",
    "SELECT url, title FROM articles ORDER BY published_at DESC LIMIT 20",
]
done = 0
started = False
while not stop.exists():
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        for q in queries:
            conn.execute(q).fetchall()
        conn.close()
        started = True
        done += 1
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc) or started:
            print(f"reader error: {exc}", flush=True)
            sys.exit(1)
        time.sleep(0.05)  # the crawl has not created the schema yet
print(f"queries {done}")
"""


def _crawl(sources: Path, db: Path) -> subprocess.Popen[str]:
    args = ["crawl", "--sources", str(sources), "--db", f"sqlite:///{db}", *replay_settings_args()]
    return start_sahel(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def together(replay: ReplayServer, replay_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("together")
    db, stop = tmp / "sahel.db", tmp / "stop"
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, str(db), str(stop)], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
        for _ in range(READERS)
    ]  # fmt: skip
    crawls = [_crawl(replay_sources, db) for _ in range(2)]
    try:
        outputs = [crawl.communicate(timeout=150) for crawl in crawls]
    finally:
        stop.touch()
        reader_outputs = [reader.communicate(timeout=30)[0] for reader in readers]
        for proc in crawls:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    return {
        "db": db,
        "crawls": [(c.returncode, out, err) for c, (out, err) in zip(crawls, outputs, strict=True)],
        "readers": [(r.returncode, out) for r, out in zip(readers, reader_outputs, strict=True)],
    }


def test_both_crawls_exit_0_and_exactly_one_says_already_running(together: dict) -> None:
    assert [code for code, _, _ in together["crawls"]] == [0, 0], [err[-1500:] for _, _, err in together["crawls"]]
    refused = [err for _, _, err in together["crawls"] if "already running" in err]
    assert len(refused) == 1
    assert "Traceback" not in "".join(err for _, _, err in together["crawls"])


def test_no_duplicate_and_every_article_stored(replay: ReplayServer, together: dict) -> None:
    with sqlite3.connect(together["db"]) as conn:
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone()
        runs = conn.execute("SELECT status FROM crawl_runs").fetchall()
    assert total == distinct == sum(1 for a in replay.expected_articles() if a.stored)
    assert runs == [("finished",)]  # the refused crawl opened no run


def test_no_database_is_locked_on_either_side(together: dict) -> None:
    for code, out in together["readers"]:
        assert code == 0, out
        assert int(out.split()[-1]) > 0, "a reader never got to query"
    for _, _, err in together["crawls"]:
        assert "locked" not in err.lower()


def test_an_export_in_progress_leaves_the_database_writable(tmp_path: Path) -> None:
    # An analyst's export piped into a pager holds its transaction open while the pipe is full:
    # on SQLite it must read a snapshot, never hold the write lock a crawl needs.
    from tests.conftest import run_sahel

    db = tmp_path / "demo.db"
    assert run_sahel("demo", "--db-path", str(db)).returncode == 0
    with sqlite3.connect(db) as conn:  # more than a pipe holds (64 KB), so the export must wait
        (demo_articles,) = conn.execute("SELECT count(*) FROM articles").fetchone()
        for copy in range(4):
            conn.execute(
                "INSERT INTO articles (url, outlet_id, title, fetched_at, language, text) "
                "SELECT url || '?copy=' || ?, outlet_id, title, fetched_at, language, text FROM articles",
                (copy,),
            )
    export = start_sahel("export", "--db", f"sqlite:///{db}", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert export.stdout is not None
        first = export.stdout.read(1)  # the export is under way; nobody reads the rest yet
        assert first == b"{"
        writer = sqlite3.connect(db, timeout=2)
        try:
            writer.execute("BEGIN IMMEDIATE")  # "database is locked" while an export held the lock
            writer.rollback()
        finally:
            writer.close()
        rest = export.stdout.read()
        assert export.wait(timeout=60) == 0
        assert (first + rest).count(b"\n") == demo_articles * 16, "the export was not cut short"
    finally:
        export.kill()
