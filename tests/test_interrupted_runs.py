"""Crawls killed outright (kill -9): their run becomes `interrupted` (a failure in `sahel health`),
and their leftover frontier folder is removed, when the next crawl starts; a crawl still going
keeps its run and its folder."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, replay_settings_args, run_sahel, start_sahel
from tests.test_crash_recovery import _set_delay, slow_replay  # noqa: F401 - slow_replay is a fixture

pytestmark = pytest.mark.slow


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _query(db: Path, sql: str, *args: object) -> list[tuple]:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []


def _frontier_of(tmp: Path, pid: int) -> Path | None:
    """The frontier folder whose owner note names `pid`."""
    for folder in tmp.glob("sahel-frontier-*"):
        try:
            if json.loads((folder / "owner.json").read_text())["pid"] == pid:
                return folder
        except (OSError, ValueError):
            continue
    return None


def _run_of(db: Path, pid: int) -> tuple[int, str] | None:
    rows = _query(db, "SELECT id, status FROM crawl_runs WHERE pid = ?", pid)
    return rows[0] if rows else None


def test_a_killed_crawl_is_interrupted_and_its_frontier_removed_by_the_next_crawl(
    slow_replay: tuple[object, Path],  # noqa: F811
    tmp_path: Path,
    short_tmp_path: Path,
) -> None:
    server, sources = slow_replay
    db = tmp_path / "sahel.db"
    tmp = short_tmp_path
    env = {"TMPDIR": str(tmp)}
    crawl = ["crawl", "--sources", str(sources), "--db", f"sqlite:///{db}", *replay_settings_args()]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    _set_delay(server, 1.5)
    # a live crawl of the other outlet, slowed so that it outlasts everything below
    live = start_sahel(*crawl, "--outlet", "meo", "-s", "DOWNLOAD_DELAY=6", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                       env=env, **quiet)  # fmt: skip
    killed = start_sahel(*crawl, "--outlet", "france24", env=env, **quiet)
    try:
        _wait_for(lambda: _frontier_of(tmp, live.pid) is not None and _run_of(db, live.pid) is not None, "meo")
        stored = "SELECT count(*) FROM articles WHERE outlet_id = 'france24'"
        _wait_for(lambda: (_query(db, stored) or [(0,)])[0][0] >= 2, "france24 articles")
        os.killpg(killed.pid, signal.SIGKILL)  # the crawl and its extraction workers
        assert killed.wait(timeout=10) == -signal.SIGKILL
        dead_run, dead_folder = _run_of(db, killed.pid), _frontier_of(tmp, killed.pid)
        assert dead_run is not None and dead_run[1] == "running" and dead_folder is not None

        _set_delay(server, 0)
        again = run_sahel(*crawl, "--outlet", "france24", env=env)
        assert again.returncode == 0, again.stderr[-2000:]

        assert _run_of(db, killed.pid) == (dead_run[0], "interrupted")
        assert not dead_folder.exists()
        assert live.poll() is None, "the live crawl ended too early to prove anything"
        assert _run_of(db, live.pid)[1] == "running"  # type: ignore[index]
        assert _frontier_of(tmp, live.pid) is not None
    finally:
        for proc in (live, killed):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    runs = run_sahel("runs", "--db", f"sqlite:///{db}")
    [line] = [line for line in runs.stdout.splitlines() if line.split()[:1] == [str(dead_run[0])]]
    assert " interrupted " in line
    health = run_sahel("health", "--db", f"sqlite:///{db}", "--json")
    france24 = next(r for r in map(json.loads, health.stdout.splitlines()) if r["outlet"] == "france24")
    assert (france24["runs_24h"], france24["failed_runs_24h"], france24["error_rate"]) == (2, 1, 0.5)


def _gone_process() -> dict[str, object]:
    """The identity of a real process that has ended."""
    code = "import dataclasses, json; from sahel_crawler.processes import this_process; "
    code += "print(json.dumps(dataclasses.asdict(this_process())))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout)


def test_runs_and_health_show_a_run_whose_process_is_gone_as_interrupted(tmp_path: Path) -> None:
    from sahel_crawler.processes import this_process
    from storage import repository as repo
    from storage.db import open_database, session_factory

    db_url = f"sqlite:///{tmp_path}/sahel.db"
    gone, alive = _gone_process(), this_process()
    with session_factory(open_database(db_url)).begin() as session:
        repo.ensure_outlets(session, {"f24": "France 24"})
        dead_id = repo.start_run(session, ["f24"], pid=gone["pid"], host=gone["host"], process_start=gone["start"])
        live_id = repo.start_run(session, ["f24"], pid=alive.pid, host=alive.host, process_start=alive.start)

    runs = run_sahel("runs", "--db", db_url)
    assert runs.returncode == 0, runs.stderr
    rows = [line.split() for line in runs.stdout.splitlines() if line.strip()[:1].isdigit()]
    status = {int(row[0]): row[4] for row in rows}
    assert status == {dead_id: "interrupted", live_id: "running"}
    health = run_sahel("health", "--db", db_url, "--json")
    [report] = [json.loads(line) for line in health.stdout.splitlines()]
    assert (report["runs_24h"], report["failed_runs_24h"]) == (2, 1)
