"""Backfill progress: the months of an outlet's archive already read in full, per source."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import dialect_insert
from storage.models import BackfillMonth


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
