"""What the scheduler writes to the database: one row per job outcome in `schedule_events`,
and the crawl run record of a crawl that was killed or failed before it could close its own.

The APScheduler job table (`scheduler_jobs`) and `schedule_events` belong to the scheduler and
are created by it, next to the crawler's tables in the same database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, Text, select
from sqlalchemy.orm import Session

from storage.models import CrawlRun, UTCDateTime, utcnow

metadata = MetaData()

# kind: finished | failed | timeout | stopped | missed | skipped | error
schedule_events = Table(
    "schedule_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", String(191), index=True, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("scheduled_for", UTCDateTime),
    Column("at", UTCDateTime, nullable=False, default=utcnow),
    Column("exit_status", Integer),
    Column("run_id", Integer),
    Column("detail", Text),
)


@dataclass(frozen=True)
class JobEvent:
    """One recorded outcome of a scheduled job."""

    job_id: str
    kind: str
    at: datetime
    scheduled_for: datetime | None = None
    exit_status: int | None = None
    run_id: int | None = None
    detail: str | None = None


def create_tables(engine: Engine) -> None:
    """Create the scheduler's own tables when missing."""
    metadata.create_all(engine)


def record_event(engine: Engine, event: JobEvent) -> None:
    """Append one job outcome to `schedule_events`."""
    with engine.begin() as connection:
        connection.execute(
            schedule_events.insert().values(
                job_id=event.job_id,
                kind=event.kind,
                scheduled_for=event.scheduled_for,
                at=event.at,
                exit_status=event.exit_status,
                run_id=event.run_id,
                detail=(event.detail or "")[:4000] or None,
            )
        )


def recent_events(engine: Engine, job_id: str | None = None, limit: int = 50) -> list[JobEvent]:
    """The latest recorded job outcomes, newest first."""
    query = select(schedule_events).order_by(schedule_events.c.id.desc()).limit(limit)
    if job_id is not None:
        query = query.where(schedule_events.c.job_id == job_id)
    with engine.connect() as connection:
        return [
            JobEvent(r.job_id, r.kind, r.at, r.scheduled_for, r.exit_status, r.run_id, r.detail)
            for r in connection.execute(query)
        ]


def runs_by_id(session: Session, run_ids: Sequence[int]) -> list[CrawlRun]:
    """The crawl runs with these ids (those a job's crawl reported creating), oldest first."""
    if not run_ids:
        return []
    return list(session.scalars(select(CrawlRun).where(CrawlRun.id.in_(run_ids)).order_by(CrawlRun.id)))


def close_failed_runs(
    session: Session, runs: Sequence[CrawlRun], reason: str, *, outlets: Sequence[str], started_at: datetime
) -> list[int]:
    """Mark a failed crawl's run records failed with `reason`; insert one when the crawl died
    before it wrote any. Returns the ids of the runs marked. Never commits.
    """
    if not runs:
        run = CrawlRun(outlets=",".join(outlets), started_at=started_at)
        session.add(run)
        runs = [run]
    for run in runs:
        # A crawl that closed its record itself has its counters; only its status and reason change.
        run.status = "failed"
        run.finish_reason = reason[:64]
        run.finished_at = run.finished_at or utcnow()
    session.flush()
    return [r.id for r in runs]
