"""Place hits per article (place_hits) and the analysts' view daily_place_counts.

Revision ID: 0009_place_hits
Revises: 0008_outlet_evidence
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.views import VIEWS_PLACES, create_views, drop_views

revision: str = "0009_place_hits"
down_revision: str | None = "0008_outlet_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made before migrations from newer models may have the table already (see 0001).
    if not sa.inspect(op.get_bind()).has_table("place_hits"):
        _create_table()
    create_views(op.execute, op.get_bind().dialect.name, VIEWS_PLACES)


def _create_table() -> None:
    op.create_table(
        "place_hits",
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name_id", sa.String(64), primary_key=True),
        sa.Column("place_id", sa.String(64)),
        sa.Column("place_kind", sa.String(16)),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_offset", sa.Integer(), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
    )
    op.create_index("ix_place_hits_place", "place_hits", ["place_id"])


def downgrade() -> None:
    drop_views(op.execute, VIEWS_PLACES)
    op.drop_index("ix_place_hits_place", table_name="place_hits")
    op.drop_table("place_hits")
