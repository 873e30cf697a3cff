"""Backfill progress: the months of an outlet's archive already read in full, per source.

Defines `BackfillMonth` (table `backfill_months`). Like `repository`, the functions take a
session and never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import dialect_insert
from storage.models import Base, UTCDateTime, utcnow


class BackfillMonth(Base):
    """A month of an outlet's archive that a backfill has read in full, per archive source
    ("sitemaps", "wayback", "warc:FILE NAME"): the next backfill does not read it again."""

    __tablename__ = "backfill_months"

    outlet_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    listed: Mapped[int] = mapped_column(Integer, default=0)  # article URLs the month's listing held
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def finished_months(session: Session, outlet_ids: list[str]) -> set[tuple[str, str, str]]:
    """(outlet, source, month) of every finished month of these outlets."""
    rows = session.execute(
        select(BackfillMonth.outlet_id, BackfillMonth.source, BackfillMonth.month).where(
            BackfillMonth.outlet_id.in_(outlet_ids)
        )
    )
    return {(outlet, source, month) for outlet, source, month in rows}


def mark_months_finished(session: Session, months: dict[tuple[str, str, str], int], run_id: int | None) -> None:
    """Record each (outlet, source, month) -> article URLs listed as finished; an existing row stays."""
    if not months:
        return
    rows = [
        {"outlet_id": outlet, "source": source, "month": month, "listed": listed, "run_id": run_id}
        for (outlet, source, month), listed in sorted(months.items())
    ]
    statement = dialect_insert(session, BackfillMonth.__table__).values(rows)
    session.execute(statement.on_conflict_do_nothing(index_elements=["outlet_id", "source", "month"]))
