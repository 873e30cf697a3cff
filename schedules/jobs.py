"""Run one job as its own OS process with a time limit, and record how it ended.

Crawls run as `python -m sahel_crawler crawl ...` (Scrapy's reactor cannot restart inside one
process), digests as `python -m sahel_crawler digest ...`. Nothing of the crawler is imported here.
The database URL goes to the job in its environment (SAHEL_DB_URL), never on its command line,
which any local user can read. A crawl writes the id of its run record to the file named by
SAHEL_RUN_ID_FILE, so the job knows its own run among those of other crawls.
A job over its time limit gets SIGTERM on its whole process group, then SIGKILL after the kill
grace; a crawl that ends so, or fails, has its run record marked failed (or one inserted).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from schedules.config import JobSpec, Schedule, format_duration
from schedules.records import JobEvent, close_failed_runs, record_event, runs_by_id
from storage.models import utcnow

logger = logging.getLogger("schedules")

STDERR_TAIL_LINES = 20


def job_command(spec: JobSpec, python: str = sys.executable) -> list[str]:
    """The argv that runs `spec` once (the database comes from `job_environment`)."""
    if spec.kind == "command":
        return [*spec.command, *spec.args]
    argv = [python, "-m", "sahel_crawler", spec.kind]
    if spec.kind == "crawl":
        if spec.sources:
            argv += ["--sources", spec.sources]
        if spec.watch:
            argv += ["--watch", spec.watch]
        for outlet in spec.outlets:
            argv += ["--outlet", outlet]
        for name, value in spec.settings:
            argv += ["-s", f"{name}={value}"]
    return [*argv, *spec.args]


def job_environment(db_url: str, run_id_file: Path | None = None) -> dict[str, str]:
    """The environment of a job process: the scheduler's, plus the database URL (read by the
    `--db` default of every `sahel` command) and, for a crawl, where to write its run id."""
    env = {**os.environ, "SAHEL_DB_URL": db_url}
    if run_id_file is not None:
        env["SAHEL_RUN_ID_FILE"] = str(run_id_file)
    else:
        env.pop("SAHEL_RUN_ID_FILE", None)
    return env


@contextlib.contextmanager
def _run_id_file() -> Iterator[Path]:
    """An empty private file the crawl appends its run id to; removed afterwards."""
    fd, name = tempfile.mkstemp(prefix="sahel-run-", suffix=".ids")
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _read_run_ids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split() if line.isdigit()]


@dataclass(frozen=True)
class ProcessResult:
    """How a job process ended: `ended_by` is "exit", "time_limit" or "stopped"."""

    exit_status: int | None
    ended_by: str
    stderr_tail: str
    seconds: float


class ProcessTracker:
    """Starts job processes, each in its own process group, and can stop them all at shutdown."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._stopping = threading.Event()

    def run(
        self,
        argv: Sequence[str],
        *,
        time_limit: float,
        kill_grace: float,
        env: Mapping[str, str] | None = None,
    ) -> ProcessResult:
        """Run `argv` to its end or its time limit; its stderr is passed on and its tail kept.
        Once `stop_all` was called, nothing starts: the result says "stopped"."""
        started = time.monotonic()
        if self._stopping.is_set():
            return ProcessResult(None, "stopped", "", 0.0)
        proc = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, env=env
        )
        tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        reader = threading.Thread(target=_forward, args=(proc.stderr, tail), daemon=True)
        reader.start()
        with self._lock:
            self._running.add(proc)
        ended_by = "exit"
        try:
            if self._stopping.is_set():
                _terminate(proc, kill_grace)
            proc.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            ended_by = "time_limit"
            logger.warning("%s: time limit of %ss reached, stopping process group %s", argv[0], time_limit, proc.pid)
            _terminate(proc, kill_grace)
        finally:
            with self._lock:
                self._running.discard(proc)
        reader.join(timeout=5)
        if ended_by == "exit" and self._stopping.is_set() and proc.returncode != 0:
            ended_by = "stopped"
        return ProcessResult(proc.returncode, ended_by, "".join(tail), time.monotonic() - started)

    def stop_all(self, kill_grace: float) -> None:
        """Stop every running job process (SIGTERM, SIGKILL after `kill_grace`) and start no more."""
        self._stopping.set()
        with self._lock:
            running = list(self._running)
        threads = [threading.Thread(target=_terminate, args=(p, kill_grace)) for p in running]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def _forward(stream: IO[bytes] | None, tail: collections.deque[str]) -> None:
    # The job's log goes on to the scheduler's stderr (journald, cron mail); the tail explains failures.
    if stream is None:
        return
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace")
        tail.append(line)
        sys.stderr.write(line)
    stream.close()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _terminate(proc: subprocess.Popen[bytes], kill_grace: float) -> None:
    """SIGTERM the process group (a crawl then closes its run record), SIGKILL it after the grace."""
    _signal_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=kill_grace)
    # Also reaps children the leader left behind.
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


@dataclass(frozen=True)
class JobOutcome:
    """How one run of a job ended; `kind` is finished, failed, timeout or stopped."""

    job_id: str
    kind: str
    started_at: datetime
    exit_status: int | None = None
    run_ids: tuple[int, ...] = ()
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.kind == "finished"

    def event(self, scheduled_for: datetime | None = None) -> JobEvent:
        """The `schedule_events` row of this outcome."""
        run_id = self.run_ids[0] if self.run_ids else None
        return JobEvent(self.job_id, self.kind, utcnow(), scheduled_for, self.exit_status, run_id, self.detail)


@dataclass
class JobContext:
    """What running jobs need; lives in the scheduler process only, never in the job store."""

    db_url: str
    schedule: Schedule
    engine: Engine
    python: str = sys.executable
    tracker: ProcessTracker = field(default_factory=ProcessTracker)


def execute_job(spec: JobSpec, ctx: JobContext) -> JobOutcome:
    """Run `spec` once, wait for it (up to its time limit) and settle its crawl run records."""
    started = utcnow()
    argv = job_command(spec, ctx.python)
    logger.info("job %s: starting %s", spec.id, spec.kind)
    if spec.kind != "crawl":
        result = _run(spec, ctx, argv, job_environment(ctx.db_url))
        return _outcome(spec, started, result, _failure_reason(spec, result), [])
    with _run_id_file() as ids_file:
        result = _run(spec, ctx, argv, job_environment(ctx.db_url, ids_file))
        own_runs = _read_run_ids(ids_file)
    reason = _failure_reason(spec, result)
    with Session(ctx.engine) as session, session.begin():
        # Only the runs this crawl recorded: other crawls may run at the same time.
        runs = runs_by_id(session, own_runs)
        if reason is None:
            run_ids = [r.id for r in runs]
        else:
            run_ids = close_failed_runs(session, runs, reason, outlets=spec.outlets, started_at=started)
    return _outcome(spec, started, result, reason, run_ids)


def _run(spec: JobSpec, ctx: JobContext, argv: Sequence[str], env: Mapping[str, str]) -> ProcessResult:
    return ctx.tracker.run(argv, time_limit=spec.time_limit, kill_grace=ctx.schedule.kill_grace, env=env)


def _failure_reason(spec: JobSpec, result: ProcessResult) -> str | None:
    """Why the job did not finish well, or None when it did."""
    if result.ended_by == "time_limit":
        return f"time limit {format_duration(spec.time_limit)} reached"
    if result.ended_by == "stopped":
        return "scheduler stopped"
    return None if result.exit_status == 0 else f"exit status {result.exit_status}"


def _outcome(
    spec: JobSpec, started: datetime, result: ProcessResult, reason: str | None, run_ids: Sequence[int]
) -> JobOutcome:
    """The outcome of a run (`reason`: why it did not finish well, or None), logged in one line."""
    kinds = {"time_limit": "timeout", "stopped": "stopped"}
    kind = kinds.get(result.ended_by, "finished" if reason is None else "failed")
    detail = reason
    last_line = next((ln.strip() for ln in reversed(result.stderr_tail.splitlines()) if ln.strip()), "")
    if reason and last_line:
        detail = f"{reason}; last output: {last_line}"
    outcome = JobOutcome(spec.id, kind, started, result.exit_status, tuple(run_ids), detail)
    log = logger.info if outcome.ok else logger.error
    log("job %s: %s after %.1fs%s", spec.id, kind, result.seconds, f" ({detail})" if detail else "")
    return outcome


def record_outcome(engine: Engine, outcome: JobOutcome, scheduled_for: datetime | None = None) -> None:
    """Append the outcome of a run to `schedule_events`."""
    record_event(engine, outcome.event(scheduled_for))


# The running scheduler's context. APScheduler stores a job as a reference to an importable
# function plus its arguments; keeping the database URL and the schedule out of those arguments
# keeps credentials out of the job table, and the schedule file authoritative.
CONTEXT: JobContext | None = None


def run_scheduled(job_id: str) -> JobOutcome:
    """The function APScheduler calls: run the job `job_id` of the current schedule.

    Returns the outcome, failed or not, for the scheduler's listener to record: an exception
    would make APScheduler log a traceback for what is an ordinary event, already logged.
    """
    if CONTEXT is None:
        raise RuntimeError("no scheduler context: jobs run inside `sahel schedule run` only")
    spec = CONTEXT.schedule.jobs.get(job_id)
    if spec is None:
        raise RuntimeError(f"job {job_id!r} is not in the schedule {CONTEXT.schedule.path}")
    return execute_job(spec, CONTEXT)
