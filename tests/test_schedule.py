"""The scheduler daemon end to end: real crawls in their own processes, one copy of each job,
coalesced and missed runs, a hung crawl killed at its time limit, one scheduler per database."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from apscheduler.triggers.cron import CronTrigger

from sahel_crawler.demo import REPLAY_OVERRIDES
from schedules.config import load_schedule
from schedules.jobs import JobContext, execute_job
from schedules.scheduler import _paused, list_jobs, sync_jobs
from storage.db import open_database
from tests.conftest import run_sahel, start_sahel


def _schedule(path: Path, jobs: dict[str, Any], **top: Any) -> Path:
    path.write_text(yaml.safe_dump({"kill_grace": "3s", **top, "jobs": jobs}))
    return path


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def _events(db: Path, job_id: str) -> list[str]:
    if not _has_events(db):
        return []
    return [kind for (kind,) in _rows(db, f"SELECT kind FROM schedule_events WHERE job_id = '{job_id}' ORDER BY id")]


class Daemon:
    """`sahel schedule run` in a subprocess, its log in a file."""

    def __init__(self, schedule: Path, db: Path, log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            args = ["schedule", "run", "--schedule", str(schedule), "--db", f"sqlite:///{db}"]
            self.proc = start_sahel(*args, stdout=out, stderr=subprocess.STDOUT)

    def wait_for(self, condition: Callable[[], bool], within: float) -> None:
        """Poll until `condition` holds; fail if the daemon died or `within` seconds passed."""
        deadline = time.monotonic() + within
        while not condition():
            assert self.proc.poll() is None, f"scheduler exited early:\n{self.log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"gave up waiting:\n{self.log.read_text()[-3000:]}"
            time.sleep(0.3)

    def started(self) -> bool:
        return "scheduler started" in self.log.read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@pytest.fixture()
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait(timeout=30)


@pytest.mark.slow
def test_scheduler_runs_two_real_crawls_of_the_replay(
    replay_sources: Path, tmp_path: Path, daemons: list[Daemon]
) -> None:
    db = tmp_path / "sahel.db"
    schedule = _schedule(tmp_path / "s.yaml", {
        "meo-often": {"kind": "crawl", "every": "2s", "outlets": ["meo"], "sources": str(replay_sources),
                      "time_limit": "90s", "settings": REPLAY_OVERRIDES},
    })  # fmt: skip
    daemon = Daemon(schedule, db, tmp_path / "daemon.log")
    daemons.append(daemon)
    daemon.wait_for(lambda: _events(db, "meo-often").count("finished") >= 2, 150)
    assert daemon.stop() == 0, daemon.log.read_text()[-3000:]
    # Runs due while a crawl is still going are skipped (max_instances=1) and recorded as such.
    assert [e for e in _events(db, "meo-often") if e != "skipped"][:2] == ["finished", "finished"]
    runs = _rows(db, "SELECT outlets, status, new_articles FROM crawl_runs ORDER BY id")
    assert [(o, s) for o, s, _ in runs[:2]] == [("meo", "finished"), ("meo", "finished")]
    assert runs[0][2] > 0 and runs[1][2] == 0, "the second crawl stores nothing new"
    recorded = _rows(db, "SELECT run_id FROM schedule_events WHERE kind = 'finished' ORDER BY id")
    assert [r for (r,) in recorded[:2]] == [1, 2]


def _has_events(db: Path) -> bool:
    return db.exists() and bool(_rows(db, "SELECT name FROM sqlite_master WHERE name = 'schedule_events'"))


def _command(marker: Path) -> list[str]:
    return [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('ran\\n')"]


def test_a_restart_keeps_one_copy_of_each_job_and_drops_removed_ones(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/sahel.db"
    jobs = {"a": {"kind": "command", "every": "1h", "command": ["true"]},
            "b": {"kind": "command", "cron": "0 6 * * *", "command": ["true"]}}  # fmt: skip
    first = load_schedule(_schedule(tmp_path / "s.yaml", jobs))
    assert sorted(sync_jobs(db_url, first)) == ["a", "b"]
    sync_jobs(db_url, first)
    assert sorted(_rows(tmp_path / "sahel.db", "SELECT id FROM scheduler_jobs")) == [("a",), ("b",)]
    del jobs["b"]
    sync_jobs(db_url, load_schedule(_schedule(tmp_path / "s.yaml", jobs)))
    assert _rows(tmp_path / "sahel.db", "SELECT id FROM scheduler_jobs") == [("a",)]


def _fall_behind(db_url: str, schedule_path: Path, job_id: str, by: timedelta) -> None:
    """As if the daemon had been down: the job's next run lies `by` in the past."""
    schedule = load_schedule(schedule_path)
    sync_jobs(db_url, schedule)
    with _paused(db_url, schedule) as scheduler:
        scheduler.modify_job(job_id, next_run_time=datetime.now(UTC) - by)


def test_runs_missed_while_down_coalesce_into_one(tmp_path: Path, daemons: list[Daemon]) -> None:
    db, marker = tmp_path / "sahel.db", tmp_path / "ran.txt"
    schedule = _schedule(
        tmp_path / "s.yaml",
        {"hourly": {"kind": "command", "every": "1h", "command": _command(marker)}},
        misfire_grace="1d",
    )
    _fall_behind(f"sqlite:///{db}", schedule, "hourly", timedelta(hours=3, minutes=30))  # 4 runs due
    daemon = Daemon(schedule, db, tmp_path / "daemon.log")
    daemons.append(daemon)
    daemon.wait_for(lambda: bool(_events(db, "hourly")), 60)
    assert daemon.stop() == 0
    assert marker.read_text() == "ran\n"
    assert _events(db, "hourly") == ["finished"]


def test_a_run_later_than_the_misfire_grace_is_recorded_as_missed(tmp_path: Path, daemons: list[Daemon]) -> None:
    db, marker = tmp_path / "sahel.db", tmp_path / "ran.txt"
    schedule = _schedule(
        tmp_path / "s.yaml",
        {"hourly": {"kind": "command", "every": "1h", "command": _command(marker)}},
        misfire_grace="10m",
    )
    _fall_behind(f"sqlite:///{db}", schedule, "hourly", timedelta(hours=3, minutes=30))  # latest due 30 min ago
    daemon = Daemon(schedule, db, tmp_path / "daemon.log")
    daemons.append(daemon)
    daemon.wait_for(lambda: bool(_events(db, "hourly")), 60)
    assert daemon.stop() == 0
    assert not marker.exists()
    assert _events(db, "hourly") == ["missed"]
    assert "hourly missed" in daemon.log.read_text()


def test_a_second_scheduler_for_the_same_database_refuses_to_start(tmp_path: Path, daemons: list[Daemon]) -> None:
    db = tmp_path / "sahel.db"
    schedule = _schedule(tmp_path / "s.yaml", {"idle": {"kind": "command", "every": "1h", "command": ["true"]}})
    first = Daemon(schedule, db, tmp_path / "first.log")
    daemons.append(first)
    first.wait_for(first.started, 60)
    second = run_sahel("schedule", "run", "--schedule", str(schedule), "--db", f"sqlite:///{db}", timeout=60)
    assert second.returncode == 1
    message = second.stderr.strip().splitlines()[-1]
    assert message.startswith("sahel: error: a scheduler is already running for this database")
    assert f"pid {first.proc.pid}" in message
    assert f"{db}.locks/scheduler.lock" in message
    assert first.stop() == 0


@pytest.fixture()
def silent_server() -> Iterator[int]:
    """A TCP server on loopback that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except (TimeoutError, OSError):
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.slow
def test_a_hung_crawl_is_killed_at_its_time_limit_and_recorded_as_failed(tmp_path: Path, silent_server: int) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"outlets": {"hung": {"name": "Hung", "feeds": [
        f"http://127.0.0.1:{silent_server}/rss"]}}}))  # fmt: skip
    schedule = _schedule(tmp_path / "s.yaml", {"hung": {
        "kind": "crawl", "every": "1h", "sources": str(sources), "time_limit": "6s",
        "settings": {"SAHEL_ALLOWED_PRIVATE_HOSTS": ["127.0.0.1"]}}})  # fmt: skip
    db = tmp_path / "sahel.db"
    result = run_sahel("schedule", "run-job", "hung", "--schedule", str(schedule), "--db", f"sqlite:///{db}",
                       timeout=90)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("sahel: error: job hung timeout: time limit 6s reached")
    assert _rows(db, "SELECT outlets, status, finish_reason FROM crawl_runs") == [
        ("hung", "failed", "time limit 6s reached")
    ]
    assert _events(db, "hung") == ["timeout"]


def test_list_shows_the_next_run_of_a_weekday_job_as_cron_reads_it(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/sahel.db"
    schedule = load_schedule(_schedule(tmp_path / "s.yaml", {
        "monday": {"kind": "command", "cron": "0 6 * * 1", "command": ["true"]}}))  # fmt: skip
    sync_jobs(db_url, schedule)
    # As an older version stored it: APScheduler's weekday 1, a Tuesday.
    with _paused(db_url, schedule) as scheduler:
        scheduler.reschedule_job("monday", trigger=CronTrigger.from_crontab("0 6 * * 1", timezone=UTC))
    [row] = list_jobs(db_url, schedule)
    assert row.next_run is not None
    assert (row.next_run.strftime("%A"), row.next_run.hour) == ("Monday", 6)
    sync_jobs(db_url, schedule)  # what the daemon does at start
    with _paused(db_url, schedule) as scheduler:
        assert scheduler.get_job("monday").next_run_time.strftime("%A") == "Monday"


# Stands for `python -m sahel_crawler crawl`: records a run of another crawl started meanwhile,
# then (when told to) its own, and fails.
_FAKE_CRAWL = """
import os, sys
from storage import repository
from storage.db import open_database, session_factory

url = sys.argv[sys.argv.index("--db") + 1] if "--db" in sys.argv else os.environ["SAHEL_DB_URL"]
Session = session_factory(open_database(url))
with Session.begin() as session:
    other = repository.start_run(session, ["france24"])
    repository.finish_run(session, other, status="finished", reason="finished", counts={})
if sys.argv[-1] == "own-run":
    with Session.begin() as session:
        own = repository.start_run(session, ["meo"])
    with open(os.environ["SAHEL_RUN_ID_FILE"], "a") as out:
        out.write(f"{own}\\n")
sys.exit(1)
"""


@pytest.mark.parametrize("own_run", [True, False])
def test_a_crawl_job_settles_its_own_run_and_never_another_crawls(tmp_path: Path, own_run: bool) -> None:
    # A job without outlets used to take every run created while it ran for its own, and
    # mark another crawl's finished run failed.
    (tmp_path / "crawl.py").write_text(_FAKE_CRAWL)
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nexec {sys.executable} {tmp_path / "crawl.py"} "$@"\n')
    python.chmod(0o755)
    args = ["own-run"] if own_run else []
    schedule = load_schedule(_schedule(tmp_path / "s.yaml", {"all": {"kind": "crawl", "every": "1h", "args": args}}))
    db = tmp_path / "sahel.db"
    engine = open_database(f"sqlite:///{db}")
    try:
        outcome = execute_job(schedule.jobs["all"], JobContext(f"sqlite:///{db}", schedule, engine, python=str(python)))
    finally:
        engine.dispose()
    assert outcome.kind == "failed", outcome.detail
    runs = _rows(db, "SELECT id, outlets, status, finish_reason FROM crawl_runs ORDER BY id")
    assert runs[0] == (1, "france24", "finished", "finished"), "another crawl's run is left alone"
    # Its own run, or, when it died before recording one, a run inserted for it.
    assert runs[1:] == [(2, "meo" if own_run else "", "failed", "exit status 1")]
    assert outcome.run_ids == (2,)


def _lines_after(log: str, marker: str, needle: str) -> list[str]:
    """Log lines containing `needle` after the first line containing `marker`."""
    lines = log.splitlines()
    start = next(i for i, line in enumerate(lines) if marker in line)
    return [line for line in lines[start:] if needle in line]


def test_no_job_starts_once_the_daemon_got_sigterm(tmp_path: Path, daemons: list[Daemon]) -> None:
    # Stopping a running job takes up to the kill grace; runs due meanwhile used to start.
    db, started = tmp_path / "sahel.db", tmp_path / "slow-started"
    stubborn = (
        "import pathlib, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(started)!r}).touch(); time.sleep(60)"
    )
    schedule = _schedule(tmp_path / "s.yaml", {
        "slow": {"kind": "command", "every": "1s", "command": [sys.executable, "-c", stubborn]},
        "often": {"kind": "command", "every": "1s", "command": ["true"]},
    }, kill_grace="4s")  # fmt: skip
    daemon = Daemon(schedule, db, tmp_path / "daemon.log")
    daemons.append(daemon)
    daemon.wait_for(lambda: started.exists() and "finished" in _events(db, "often"), 60)
    assert daemon.stop() == 0
    log = daemon.log.read_text()
    # A run handed out at the very moment of the signal may still be logged; no later one.
    assert len(_lines_after(log, "SIGTERM received", "job often: starting")) <= 1, log[-3000:]
    assert _events(db, "slow")[-1] == "stopped"


def test_a_failed_job_is_one_log_line_without_a_traceback(tmp_path: Path, daemons: list[Daemon]) -> None:
    db = tmp_path / "sahel.db"
    schedule = _schedule(tmp_path / "s.yaml", {
        "bad": {"kind": "command", "every": "1s", "command": [sys.executable, "-c", "raise SystemExit('no luck')"]},
    })  # fmt: skip
    daemon = Daemon(schedule, db, tmp_path / "daemon.log")
    daemons.append(daemon)
    daemon.wait_for(lambda: "failed" in _events(db, "bad"), 60)
    assert daemon.stop() == 0
    log = daemon.log.read_text()
    assert "Traceback" not in log and "JobFailed" not in log, log[-3000:]
    assert "executed successfully" not in log and "raised an exception" not in log
    failures = [line for line in log.splitlines() if "job bad: failed" in line]
    assert len(failures) == _events(db, "bad").count("failed")
    assert "job bad: failed after" in failures[0] and "exit status 1; last output: no luck" in failures[0]
