"""The scheduler daemon: APScheduler 3.x in UTC, jobs kept in the database, one per database.

Jobs live in the `scheduler_jobs` table (APScheduler's SQLAlchemyJobStore) with explicit ids,
`replace_existing=True`, `coalesce=True`, `max_instances=1` and a misfire grace of minutes.
Each start rewrites them from the schedule file: one copy per job, jobs gone from the file
removed, and the stored next run time kept for unchanged jobs, so a run missed while the
daemon was down runs once at start (or is recorded as missed when later than the grace).
A job returns its outcome, failed or not: the listener records it, and the log has one line per
event (APScheduler's executor would add its own lines, and a traceback for a raised failure).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any, TypeGuard

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
)
from apscheduler.events import (
    JobEvent as SchedulerJobEvent,
)
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine

from schedules import jobs
from schedules.config import JobSpec, Schedule
from schedules.jobs import JobContext, JobOutcome, ProcessTracker, execute_job, record_outcome
from schedules.records import JobEvent, create_tables, recent_events, record_event
from storage.db import make_engine, open_database, safe_url, sqlite_file
from storage.locks import database_lock
from storage.models import utcnow

logger = logging.getLogger("schedules")

JOB_TABLE = "scheduler_jobs"
SCHEDULER_LOCK = "scheduler"


# The paused schedulers that read or rewrite the job store would log "started" and "shut down".
_quiet = logging.getLogger("schedules.store")
_quiet.setLevel(logging.WARNING)
# The executor logs "Running job", "executed successfully" (also for a failed job) and "missed",
# each of which our own log already says in one line; its errors (a bug: a traceback) still show.
logging.getLogger("apscheduler.executors").setLevel(logging.ERROR)


def _scheduler(cls: type[BaseScheduler], db_url: str, schedule: Schedule, **options: Any) -> BaseScheduler:
    store = SQLAlchemyJobStore(engine=make_engine(db_url), tablename=JOB_TABLE)
    return cls(
        **options,
        timezone=UTC,
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": schedule.misfire_grace},
    )


def _job_name(spec: JobSpec) -> str:
    return f"{spec.kind} {spec.when()}"


def _same_timing(stored: Job | None, spec: JobSpec) -> TypeGuard[Job]:
    """Whether the stored job has the timing of `spec`, so its stored next run time holds.

    The name says the timing as written, the trigger how it is read: a job stored by an older
    version that read cron's weekdays differently starts afresh too.
    """
    return stored is not None and stored.name == _job_name(spec) and str(stored.trigger) == str(spec.trigger())


class _StoreOnlyScheduler(BaseScheduler):
    """A scheduler with no main loop: it reads and writes the job store and never runs a job.

    (A paused BackgroundScheduler is not enough: its loop processes due jobs once more while
    shutting down, which would advance the next run time of a missed job.)
    """

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        pass


@contextmanager
def _paused(db_url: str, schedule: Schedule) -> Iterator[BaseScheduler]:
    """A scheduler on the job store that never runs anything: for reading and rewriting jobs."""
    scheduler = _scheduler(_StoreOnlyScheduler, db_url, schedule, logger=_quiet)
    scheduler.start(paused=True)
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)


def sync_jobs(db_url: str, schedule: Schedule) -> list[str]:
    """Write the schedule's jobs to the job store (see the module docstring); return their ids."""
    with _paused(db_url, schedule) as scheduler:
        for spec in schedule.jobs.values():
            stored = scheduler.get_job(spec.id)
            keep: dict[str, Any] = {}
            if _same_timing(stored, spec) and stored.next_run_time:
                keep["next_run_time"] = stored.next_run_time
            scheduler.add_job(
                jobs.run_scheduled,
                trigger=spec.trigger(),
                args=[spec.id],
                id=spec.id,
                name=_job_name(spec),
                replace_existing=True,
                **keep,
            )
        for job in scheduler.get_jobs():
            if job.id not in schedule.jobs:
                logger.info("removing job %s: no longer in %s", job.id, schedule.path)
                scheduler.remove_job(job.id)
        return [job.id for job in scheduler.get_jobs()]


@dataclass(frozen=True)
class JobStatus:
    """A configured job with its next run time and its last recorded outcome."""

    spec: JobSpec
    next_run: datetime | None
    last: JobEvent | None


def list_jobs(db_url: str, schedule: Schedule) -> list[JobStatus]:
    """The schedule's jobs, each with its next run (the stored one when the daemon has loaded it).
    A SQLite file that does not exist yet is not created: the jobs have never run."""
    database = sqlite_file(db_url)
    if database is not None and not database.exists():
        now = datetime.now(UTC)
        return [JobStatus(spec, spec.trigger().get_next_fire_time(None, now), None) for spec in schedule.jobs.values()]
    engine = open_database(db_url)
    try:
        create_tables(engine)
        with _paused(db_url, schedule) as scheduler:
            rows = []
            now = datetime.now(UTC)
            for spec in schedule.jobs.values():
                stored = scheduler.get_job(spec.id)
                if _same_timing(stored, spec):
                    next_run = stored.next_run_time
                else:
                    next_run = spec.trigger().get_next_fire_time(None, now)
                last = recent_events(engine, spec.id, limit=1)
                rows.append(JobStatus(spec, next_run, last[0] if last else None))
        return rows
    finally:
        engine.dispose()


class JobListener:
    """Records every job outcome in `schedule_events` and the log: finished, failed, timeout,
    stopped, missed (later than the misfire grace), skipped (the previous run still going), error."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, event: SchedulerJobEvent) -> None:
        scheduled = getattr(event, "scheduled_run_time", None)
        if event.code == EVENT_JOB_EXECUTED and isinstance(event.retval, JobOutcome):
            record_outcome(self.engine, event.retval, scheduled)
            return
        if event.code == EVENT_JOB_MISSED:
            kind, detail = "missed", f"due at {scheduled:%Y-%m-%d %H:%M:%S %Z}, later than the misfire grace"
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            scheduled = event.scheduled_run_times[-1]
            kind, detail = "skipped", "the previous run was still going"
        elif event.code == EVENT_JOB_ERROR:
            kind, detail = "error", f"{type(event.exception).__name__}: {event.exception}"
        else:
            return
        logger.warning("job %s %s: %s", event.job_id, kind, detail)
        record_event(self.engine, JobEvent(event.job_id, kind, utcnow(), scheduled, detail=detail))


def run_scheduler(db_url: str, schedule: Schedule, *, on_started: Callable[[str], None] | None = None) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT.

    Raises LockHeld when another scheduler runs for this database, DatabaseError when the
    database cannot be used. On a signal: no new jobs, running jobs get SIGTERM then SIGKILL
    after the kill grace and are recorded as stopped, and the function returns.
    """
    with database_lock(db_url, SCHEDULER_LOCK) as lock_where:
        engine = open_database(db_url)
        create_tables(engine)
        context = JobContext(db_url, schedule, engine)
        jobs.CONTEXT = context
        try:
            job_ids = sync_jobs(db_url, schedule)
            scheduler = _scheduler(BlockingScheduler, db_url, schedule)
            scheduler.add_listener(
                JobListener(engine), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
            )
            with _stop_on_signals(lambda: _shutdown(scheduler, context.tracker, schedule.kill_grace)):
                logger.info(
                    "scheduler started for %s: jobs %s; lock %s", safe_url(db_url), ", ".join(job_ids), lock_where
                )
                if on_started:
                    on_started(lock_where)
                scheduler.start()
            logger.info("scheduler stopped")
        finally:
            jobs.CONTEXT = None
            engine.dispose()


def _shutdown(scheduler: BaseScheduler, tracker: ProcessTracker, kill_grace: float) -> None:
    # Start nothing more first: stopping the running jobs takes up to the kill grace, during
    # which due runs would otherwise still start. A run the scheduler was already handing out
    # finds the tracker stopping and starts no process.
    scheduler.pause()
    tracker.stop_all(kill_grace)
    scheduler.shutdown(wait=True)


@contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Call `stop` once, in its own thread, on the first SIGTERM or SIGINT."""
    started = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        if started.is_set():
            return
        started.set()
        logger.info("%s received: stopping", signal.Signals(signum).name)
        # Not in the handler itself: it interrupts the main thread, which may hold the scheduler's locks.
        threading.Thread(target=stop, name="scheduler-stop").start()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_job_once(db_url: str, schedule: Schedule, job_id: str) -> JobOutcome:
    """Run one job of the schedule now, as the daemon would (for cron): time limit, run records,
    a `schedule_events` row. SIGTERM or SIGINT stop the job process. Raises KeyError for an
    unknown job id."""
    spec = schedule.jobs[job_id]
    engine = open_database(db_url)
    try:
        create_tables(engine)
        context = JobContext(db_url, schedule, engine)
        with _stop_on_signals(lambda: context.tracker.stop_all(schedule.kill_grace)):
            outcome = execute_job(spec, context)
        record_outcome(engine, outcome)
        return outcome
    finally:
        engine.dispose()
