"""The form of the text each `article_search` row holds, as a number (`index_format`), so the
next sync re-indexes rows of an older form (storage.search.INDEX_FORMAT).

Rows indexed before this column existed are numbered by when they were indexed: the second form
(characters the back ends split differently turned into spaces, the standfirst not doubled) came
in at 2026-11-24 11:00 UTC; earlier rows hold the first.

Revision ID: 0005_search_index_format
Revises: 0004_run_process
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005_search_index_format"
down_revision: str | None = "0004_run_process"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECOND_FORM_SINCE = datetime(2026, 11, 24, 11, 0)  # naive UTC, as indexed_at is stored


def upgrade() -> None:
    op.add_column("article_search", sa.Column("index_format", sa.Integer(), nullable=False, server_default="1"))
    rows = sa.table("article_search", sa.column("indexed_at", sa.DateTime()), sa.column("index_format", sa.Integer()))
    op.execute(rows.update().where(rows.c.indexed_at >= SECOND_FORM_SINCE).values(index_format=2))


def downgrade() -> None:
    op.drop_column("article_search", "index_format")
