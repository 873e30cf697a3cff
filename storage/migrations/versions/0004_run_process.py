"""The process of each crawl run (pid, host, start token), so that a run whose process is gone
(kill -9, a double signal) can be recorded as `interrupted` instead of `running` for ever.

Revision ID: 0004_run_process
Revises: 0003_full_text_search
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_run_process"
down_revision: str | None = "0003_full_text_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COLUMNS = (
    ("pid", sa.Integer()),
    ("host", sa.String(length=255)),
    ("process_start", sa.String(length=64)),
)


def upgrade() -> None:
    # A database made before migrations from newer models may have them already (see 0001).
    existing = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("crawl_runs")}
    for name, type_ in COLUMNS:
        if name not in existing:
            op.add_column("crawl_runs", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of the table would drop the
    # old one, and with it, through ON DELETE CASCADE, every crawl error of every run.
    for name, _ in reversed(COLUMNS):
        op.drop_column("crawl_runs", name)
