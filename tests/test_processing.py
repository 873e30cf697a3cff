"""The extraction stage's worker processes: same stored rows as inline, and pages that hang or crash
their worker are recorded and skipped while the crawl goes on. Real crawls of the local replay."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

from bench.crawl import process_tree
from pipelines.extract import ExtractionPipeline, process_page
from sahel_crawler import settings as project_settings
from sahel_crawler.replay import ReplayServer
from tests.conftest import REPO, crawl_replay

pytestmark = pytest.mark.timeout(240)

HANG_ENV = "SAHEL_TEST_HANG_PATH"
CRASH_ENV = "SAHEL_TEST_CRASH_PATH"


def faulty_page(html: str, url: str, *rest: object) -> object:
    """process_page, except that it hangs or kills its own process on the pages the test names."""
    path = unquote(url.split("://", 1)[-1].partition("/")[2])
    if path == os.environ.get(HANG_ENV):
        time.sleep(3600)
    if path == os.environ.get(CRASH_ENV):
        os.kill(os.getpid(), signal.SIGSEGV)
    return process_page(html, url, *rest)  # type: ignore[arg-type]


class FaultyExtractionPipeline(ExtractionPipeline):
    """The extraction stage running `faulty_page` in its workers."""

    page_function = staticmethod(faulty_page)


def _pipelines_with(extraction: str) -> str:
    stages = dict(project_settings.ITEM_PIPELINES)
    order = stages.pop("pipelines.extract.ExtractionPipeline")
    return json.dumps({**stages, extraction: order})


def stored_rows(db: Path) -> dict[str, list[tuple]]:
    """What a crawl stored, keyed by URL rather than row ids (which follow completion order)."""
    with sqlite3.connect(db) as conn:
        return {
            "articles": sorted(
                conn.execute(
                    """SELECT a.url, a.outlet_id, a.title, a.author, a.published_at, a.published_at_source,
                              a.language, a.language_prob, a.text, a.description, a.text_hash, d.url,
                              a.lexicon_version
                       FROM articles a LEFT JOIN articles d ON d.id = a.duplicate_of_id"""
                )
            ),
            "aliases": sorted(
                conn.execute(
                    "SELECT a.url, x.url, x.reason FROM article_aliases x JOIN articles a ON a.id = x.article_id"
                )
            ),
            "keywords": sorted(
                conn.execute(
                    """SELECT a.url, k.concept_id, k.form, k.count, k.first_offset, k.snippet
                       FROM keyword_hits k JOIN articles a ON a.id = k.article_id"""
                )
            ),
        }


def _crawl(replay_sources: Path, db: Path, *settings: str, env: dict[str, str] | None = None) -> None:
    extra = [arg for name in settings for arg in ("-s", name)]
    result = crawl_replay(replay_sources, f"sqlite:///{db}", *extra, env=env)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def pooled_db(replay_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("pooled") / "pooled.db"
    _crawl(replay_sources, db, "SAHEL_EXTRACT_WORKERS=2")
    return db


def test_stored_rows_are_identical_inline_and_in_workers(replay_sources: Path, pooled_db: Path, tmp_path: Path) -> None:
    inline_db = tmp_path / "inline.db"
    _crawl(replay_sources, inline_db, "SAHEL_EXTRACT_WORKERS=0")

    inline, pooled = stored_rows(inline_db), stored_rows(pooled_db)
    assert len(inline["articles"]) >= 20
    assert all(row[6] for row in pooled["articles"]), "every article has a language"
    assert pooled == inline


def _plain_articles(replay: ReplayServer) -> list[str]:
    """Decoded paths of stored articles that are nobody's original or copy."""
    expected = replay.expected_articles()
    originals = {a.duplicate_of for a in expected}
    chosen = [a for a in expected if a.stored and a.duplicate_of is None and a.url not in originals]
    return [unquote(a.url.split("://", 1)[1].partition("/")[2]) for a in chosen]


@pytest.fixture(scope="module")
def faulty_crawl(replay: ReplayServer, replay_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    hang, crash = _plain_articles(replay)[:2]
    db = tmp_path_factory.mktemp("faulty") / "faulty.db"
    _crawl(
        replay_sources,
        db,
        f"ITEM_PIPELINES={_pipelines_with('tests.test_processing.FaultyExtractionPipeline')}",
        "SAHEL_EXTRACT_WORKERS=2",
        "SAHEL_EXTRACT_TIMEOUT=3",
        env={HANG_ENV: hang, CRASH_ENV: crash},
    )
    with sqlite3.connect(db) as conn:
        errors = conn.execute("SELECT url, kind, reason FROM crawl_errors").fetchall()
        run = conn.execute("SELECT status, errors FROM crawl_runs").fetchone()
    return {"db": db, "hang": hang, "crash": crash, "errors": errors, "run": run}


def _urls(db: Path) -> set[str]:
    return {unquote(row[0].split("://", 1)[1].partition("/")[2]) for row in stored_rows(db)["articles"]}


def test_a_page_that_hangs_is_recorded_and_skipped(faulty_crawl: dict, pooled_db: Path) -> None:
    hang = faulty_crawl["hang"]
    assert hang in _urls(pooled_db)
    assert hang not in _urls(faulty_crawl["db"])
    recorded = [(kind, reason) for url, kind, reason in faulty_crawl["errors"] if unquote(url).endswith(hang)]
    assert recorded and recorded[0][0] == "extraction"
    assert "no result after 3 s" in recorded[0][1]
    assert faulty_crawl["run"][0] == "finished"


def test_a_worker_crash_loses_only_its_page(faulty_crawl: dict, pooled_db: Path) -> None:
    crash = faulty_crawl["crash"]
    recorded = [(kind, reason) for url, kind, reason in faulty_crawl["errors"] if unquote(url).endswith(crash)]
    assert recorded and recorded[0][0] == "extraction"
    assert "died" in recorded[0][1]
    # Every other article was stored: the crawl went on with replaced workers.
    assert _urls(faulty_crawl["db"]) == _urls(pooled_db) - {faulty_crawl["hang"], crash}
    assert faulty_crawl["run"] == ("finished", 2)


def slow_answer(seconds: float) -> str:
    """A page's work that takes a while."""
    time.sleep(seconds)
    return "done"


def test_a_worker_finishes_its_page_through_a_sigterm_to_the_process_group() -> None:
    # A scheduler stopping a crawl signals its whole process group: the crawler shuts down
    # gracefully, and a worker killed mid-page would record a false extraction failure.
    from sahel_crawler.workers import WorkerPool

    pool = WorkerPool(1, timeout=30)
    try:
        future = pool.submit(slow_answer, 1.5)
        deadline = time.monotonic() + 30
        while not any(w.ready for w in pool._workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the page is in hand
        (worker,) = pool._workers
        os.kill(worker.process.pid, signal.SIGTERM)
        assert future.result(timeout=30) == "done"
        assert pool.replaced == 0
    finally:
        pool.close()


# A crawler in miniature: a pool with one worker busy on a page that hangs and one idle.
OWNER = r"""
import time
from sahel_crawler.workers import WorkerPool
pool = WorkerPool(2, timeout=3600)
pool.submit(time.sleep, 3600)
deadline = time.monotonic() + 60
while not any(w.ready for w in pool._workers) and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(0.5)  # the page is in hand
print("busy", flush=True)
time.sleep(3600)
"""


def _process(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process, None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # from the 3rd field on: state, ppid, ...
    return fields[0], fields[19]  # the 22nd field: start time


def _alive(processes: dict[int, str]) -> list[int]:
    # A zombie is dead: an orphan waits to be reaped by whatever adopted it.
    return [
        pid for pid, started in processes.items()
        if (info := _process(pid)) is not None and info[1] == started and info[0] not in "ZX"
    ]  # fmt: skip


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_and_their_forkserver_die_with_a_crawler_killed_outright() -> None:
    # kill -9 of a crawl must not leave a worker that was
    # busy on a slow page running until its time limit, nor the fork server waiting for it.
    owner = subprocess.Popen([sys.executable, "-c", OWNER], cwd=REPO, stdout=subprocess.PIPE, text=True)
    helpers: dict[int, str] = {}
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline() == "busy\n"
        helpers = {pid: info[1] for pid in process_tree(owner.pid)[1:] if (info := _process(pid)) is not None}
        assert len(helpers) >= 3, "expected the fork server and two workers"
        owner.kill()
        owner.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(helpers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _alive(helpers) == [], "processes of the killed crawler are still running"
    finally:
        owner.kill()
        owner.wait(timeout=10)
        for pid in _alive(helpers):
            os.kill(pid, signal.SIGKILL)
