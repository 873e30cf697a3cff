"""The months of each outlet's archive that a backfill has read in full, per archive source, so
that `sahel backfill` resumes without reading a finished month again.

Revision ID: 0010_backfill_months
Revises: 0009_place_hits
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_backfill_months"
down_revision: str | None = "0009_place_hits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made before migrations from newer models may have it already (see 0001).
    if sa.inspect(op.get_bind()).has_table("backfill_months"):
        return
    op.create_table(
        "backfill_months",
        sa.Column("outlet_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("outlet_id", "source", "month"),
    )


def downgrade() -> None:
    op.drop_table("backfill_months")
