"""Run one job as its own OS process with a time limit, and record how it ended.

Crawls run as `python -m sahel_crawler crawl ...` (Scrapy's reactor cannot restart inside one
process), digests as `python -m sahel_crawler digest ...`. Nothing of the crawler is imported here.
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
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from schedules.config import JobSpec, Schedule, format_duration
from schedules.records import JobEvent, close_failed_runs, last_run_id, record_event, runs_since
from storage.models import utcnow

logger = logging.getLogger("schedules")

STDERR_TAIL_LINES = 20


def job_command(spec: JobSpec, db_url: str, python: str = sys.executable) -> list[str]:
    """The argv that runs `spec` once against the database `db_url`."""
    if spec.kind == "command":
        return [*spec.command, *spec.args]
    argv = [python, "-m", "sahel_crawler", spec.kind, "--db", db_url]
    if spec.kind == "crawl":
        if spec.sources:
            argv += ["--sources", spec.sources]
        for outlet in spec.outlets:
            argv += ["--outlet", outlet]
        for name, value in spec.settings:
            argv += ["-s", f"{name}={value}"]
    return [*argv, *spec.args]


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

    def run(self, argv: Sequence[str], *, time_limit: float, kill_grace: float) -> ProcessResult:
        """Run `argv` to its end or its time limit; its stderr is passed on and its tail kept."""
        started = time.monotonic()
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
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


class JobFailed(RuntimeError):
    """A job process that failed, overran or was stopped (raised so the scheduler sees a failed job)."""

    def __init__(self, outcome: JobOutcome) -> None:
        self.outcome = outcome
        super().__init__(f"job {outcome.job_id} {outcome.kind}: {outcome.detail or 'no detail'}")


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
    baseline = 0
    if spec.kind == "crawl":
        with Session(ctx.engine) as session:
            baseline = last_run_id(session)
    argv = job_command(spec, ctx.db_url, ctx.python)
    logger.info("job %s: starting %s", spec.id, spec.kind)
    result = ctx.tracker.run(argv, time_limit=spec.time_limit, kill_grace=ctx.schedule.kill_grace)
    if result.ended_by == "time_limit":
        kind, reason = "timeout", f"time limit {format_duration(spec.time_limit)} reached"
    elif result.ended_by == "stopped":
        kind, reason = "stopped", "scheduler stopped"
    elif result.exit_status == 0:
        kind, reason = "finished", None
    else:
        kind, reason = "failed", f"exit status {result.exit_status}"
    run_ids: list[int] = []
    if spec.kind == "crawl":
        with Session(ctx.engine) as session, session.begin():
            runs = runs_since(session, baseline, spec.outlets)
            if reason is None:
                run_ids = [r.id for r in runs]
            else:
                run_ids = close_failed_runs(session, runs, reason, outlets=spec.outlets, started_at=started)
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

    Raises JobFailed when the job did not finish well, so the scheduler's listener records it.
    """
    if CONTEXT is None:
        raise RuntimeError("no scheduler context: jobs run inside `sahel schedule run` only")
    spec = CONTEXT.schedule.jobs.get(job_id)
    if spec is None:
        raise RuntimeError(f"job {job_id!r} is not in the schedule {CONTEXT.schedule.path}")
    outcome = execute_job(spec, CONTEXT)
    if not outcome.ok:
        raise JobFailed(outcome)
    return outcome
