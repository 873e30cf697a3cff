"""Crawls that cannot end normally: a second Ctrl-C, a database that refuses to record the run's
end, a PostgreSQL lock connection lost during the crawl. Each is met as a user meets it: a
`sahel crawl` process, its exit status and its log."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from sahel_crawler.replay import BuiltSite, ReplayServer, Resource, Site
from sahel_crawler.replay.bundled import build_bundled_site
from storage.db import open_database
from storage.locks import advisory_key
from tests.conftest import REPLAY_NOW, crawl_replay, replay_settings_args, start_sahel
from tests.test_postgres_storage import throwaway_database

pytestmark = pytest.mark.slow

HOLD_SECONDS = 60  # longest an article page of the held site keeps the crawl waiting
STOP_WITHIN = 30  # seconds a crawl may take to exit after a second Ctrl-C


@dataclass
class _HeldSite:
    """A site whose article pages answer only once `release` is set: a crawl of it is always
    in the middle of its downloads."""

    inner: Site
    article_paths: frozenset[str]
    reached: threading.Event
    release: threading.Event

    def get(self, path: str) -> Resource | None:
        if path in self.article_paths:
            self.reached.set()
            self.release.wait(HOLD_SECONDS)
        return self.inner.get(path)


@pytest.fixture
def held_replay(tmp_path: Path) -> Iterator[tuple[Path, threading.Event]]:
    """The bundled replay with its article pages held; (sources file, set once one is asked for)."""
    reached, release = threading.Event(), threading.Event()

    def build(base_urls: Mapping[str, str], now: datetime) -> BuiltSite:
        built = build_bundled_site(base_urls, now)
        paths = frozenset(unquote(urlsplit(a.url).path) for a in built.articles)
        built.sites = {outlet: _HeldSite(site, paths, reached, release) for outlet, site in built.sites.items()}
        return built

    with ReplayServer(now=REPLAY_NOW, site_builder=build) as server:
        try:
            yield server.write_sources(tmp_path / "sources.yaml"), reached
        finally:
            release.set()


class _Lines:
    """Collects a stream's lines in a thread; `wait_for` waits until one contains a text."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, fragment: str, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: any(fragment in line for line in self.lines), timeout)

    def text(self, timeout: float = 10) -> str:
        self._thread.join(timeout)
        return "".join(self.lines)


def test_a_second_ctrl_c_stops_the_crawl_at_once_and_says_so(
    held_replay: tuple[Path, threading.Event], tmp_path: Path
) -> None:
    sources, reached = held_replay
    args = ["crawl", "--sources", str(sources), "--db", f"sqlite:///{tmp_path / 'sahel.db'}", *replay_settings_args()]
    proc = start_sahel(*args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stderr is not None
    log = _Lines(proc.stderr)
    try:
        assert reached.wait(60), "the crawl never asked for an article page"
        # Ctrl-C in a terminal signals the whole foreground process group, extraction workers too.
        os.killpg(proc.pid, signal.SIGINT)
        assert log.wait_for("shutting down gracefully", 30), log.text(0)[-3000:]
        os.killpg(proc.pid, signal.SIGINT)  # the downloads still hang: the user insists
        try:
            proc.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the crawl still ran {STOP_WITHIN} s after a second Ctrl-C")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    stderr = log.text()
    assert "Received SIGINT twice, forcing unclean shutdown" in stderr
    assert proc.returncode == 1, stderr[-3000:]
    last = stderr.strip().splitlines()[-1]
    assert last == "sahel: error: the crawl was stopped before it could finish (see the log above)", stderr[-3000:]


def test_a_run_whose_end_the_database_refuses_exits_1_and_says_why(
    replay: ReplayServer, replay_sources: Path, tmp_path: Path
) -> None:
    # On this database the crawl can store its articles, but the last write of the run (its
    # status, counts and end time) is refused, as a database that turned read-only or ran out
    # of space refuses it. SQLite refuses it itself, through a trigger: nothing in the crawl
    # is replaced.
    db = tmp_path / "sahel.db"
    open_database(f"sqlite:///{db}").dispose()  # the schema every crawl creates
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TRIGGER refuse_run_end BEFORE UPDATE OF status ON crawl_runs "
            "WHEN NEW.status <> 'running' BEGIN SELECT RAISE(ABORT, 'the run end is refused'); END"
        )
    result = crawl_replay(replay_sources, f"sqlite:///{db}")
    assert result.returncode == 1, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if "[pipelines.store] ERROR:" in line]
    assert len(errors) == 1, result.stderr[-3000:]
    assert "cannot record the end of crawl run 1: " in errors[0] and "the run end is refused" in errors[0]
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "sahel: error: the crawl's run could not be recorded as ended: the database was not writable (see the log)"
    )
    assert "crawl run 1 of france24, meo: running" in result.stdout  # the summary shows the run as the database has it
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM crawl_runs").fetchall() == [("running",)]
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] > 0, "the crawl itself went through"


@pytest.mark.postgres
def test_a_lock_connection_lost_during_a_crawl_is_a_warning_not_a_traceback(
    replay: ReplayServer, replay_sources: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    key = advisory_key("crawl-france24") & 0xFFFFFFFFFFFFFFFF  # pg_locks shows it in two unsigned halves
    holder = text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid::bigint = :high "
        "AND objid::bigint = :low AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with throwaway_database("postgresql", tmp_path, request) as url:
        args = ["crawl", "--sources", str(replay_sources), "--db", url, "--outlet", "france24", *replay_settings_args()]
        proc = start_sahel(*args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        log = _Lines(proc.stderr)
        admin = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        terminated = False
        try:
            with admin.connect() as conn:
                deadline = time.monotonic() + 60
                while not terminated and proc.poll() is None and time.monotonic() < deadline:
                    pids = conn.execute(holder, {"high": key >> 32, "low": key & 0xFFFFFFFF}).scalars().all()
                    # The server ends the lock's session (a restart, a network cut, an admin):
                    # the lock goes with it, while the crawl goes on.
                    terminated = bool(pids) and all(
                        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() for pid in pids
                    )
                    time.sleep(0.02)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            admin.dispose()
    stderr = log.text()
    assert terminated, f"the crawl's lock was never seen held: {stderr[-3000:]}"
    assert proc.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    warnings = [line for line in stderr.splitlines() if "[storage.locks] WARNING:" in line]
    assert len(warnings) == 1, stderr[-3000:]
    assert "lock 'crawl-france24' was already released: its database connection was lost (" in warnings[0]
    assert "crawl run 1 finished (finished)" in stderr
