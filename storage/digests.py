"""Digest run records: which digest was built or sent, for which period, and how it ended.

The `digest_runs` table lives on the shared `Base` metadata, so `open_database` creates it with
the rest of the schema. Emailed digests are claimed before sending: `claim_key` is unique while a
send is under way or done, so the scheduled daily job never mails the same digest twice (a failed
send releases its claim; `force` releases an earlier one). Functions take a session and never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, UTCDateTime, utcnow


class DigestRun(Base):
    """One `sahel digest`: its period, where it went and how it ended."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)  # UTC bounds of the digest's period
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    label: Mapped[str] = mapped_column(String(64))  # the local date, or "since/until" for a range
    timezone: Mapped[str] = mapped_column(String(64))
    delivery: Mapped[str] = mapped_column(String(16))  # email | file | stdout
    fmt: Mapped[str] = mapped_column(String(16))
    recipients: Mapped[str] = mapped_column(Text, default="")  # comma-separated addresses
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|done|sent|failed
    stories: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # Unique while an email send is under way or done; NULL otherwise (NULLs never collide).
    claim_key: Mapped[str | None] = mapped_column(String(512), unique=True)


def start_digest_run(
    session: Session,
    *,
    period_start: datetime,
    period_end: datetime,
    label: str,
    timezone: str,
    delivery: str,
    fmt: str,
    recipients: list[str] | tuple[str, ...] = (),
) -> DigestRun:
    """Record the start of a digest that is written to a file or standard output (no claim)."""
    run = DigestRun(
        period_start=period_start,
        period_end=period_end,
        label=label,
        timezone=timezone,
        delivery=delivery,
        fmt=fmt,
        recipients=",".join(recipients),
    )
    session.add(run)
    session.flush()
    return run


def claim_email(
    session: Session,
    claim_key: str,
    *,
    period_start: datetime,
    period_end: datetime,
    label: str,
    timezone: str,
    fmt: str,
    recipients: list[str] | tuple[str, ...],
    force: bool = False,
) -> DigestRun | None:
    """Record an email send of the digest identified by `claim_key`, or None when it was
    already sent (or is being sent) and `force` is false.

    With `force`, an earlier claim is released first, so the digest goes out again.
    """
    if force:
        session.execute(update(DigestRun).where(DigestRun.claim_key == claim_key).values(claim_key=None))
    run = DigestRun(
        period_start=period_start,
        period_end=period_end,
        label=label,
        timezone=timezone,
        delivery="email",
        fmt=fmt,
        recipients=",".join(recipients),
        claim_key=claim_key,
    )
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:  # another run holds the claim: sent already, or sending right now
        return None
    return run


def finish_digest_run(session: Session, run: DigestRun, *, status: str, stories: int, error: str | None = None) -> None:
    """Close a digest run; a failed email send releases its claim so a later run may retry."""
    run.status = status
    run.stories = stories
    run.error = error
    run.finished_at = utcnow()
    if status == "failed":
        run.claim_key = None
    session.flush()


def claimed_run(session: Session, claim_key: str) -> DigestRun | None:
    """The run that holds the claim `claim_key` (the earlier send), if any."""
    return session.scalar(select(DigestRun).where(DigestRun.claim_key == claim_key))


def recent_digest_runs(session: Session, limit: int = 20) -> list[DigestRun]:
    """The latest digest runs, newest first."""
    return list(session.scalars(select(DigestRun).order_by(DigestRun.id.desc()).limit(limit)))
