"""Analysts' views (article_keywords, daily_concept_counts, stories) and their indexes.

Revision ID: 0002_analyst_views
Revises: 0001_initial
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.views import INDEXES_V1, VIEWS_V1, create_views, drop_views

revision: str = "0002_analyst_views"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name, table, expressions in INDEXES_V1:
        op.create_index(name, table, [sa.text(expression) for expression in expressions])
    create_views(op.execute, op.get_bind().dialect.name, VIEWS_V1)


def downgrade() -> None:
    drop_views(op.execute, VIEWS_V1)
    for name, table, _ in reversed(INDEXES_V1):
        op.drop_index(name, table_name=table)
