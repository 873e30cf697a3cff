"""The analysts' view of concepts flagged in the same story per day (concept_pairs).

Revision ID: 0007_concept_pairs
Revises: 0006_alerts
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from storage.views import VIEWS_V2, create_views, drop_views

revision: str = "0007_concept_pairs"
down_revision: str | None = "0006_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_views(op.execute, op.get_bind().dialect.name, VIEWS_V2)


def downgrade() -> None:
    drop_views(op.execute, VIEWS_V2)
