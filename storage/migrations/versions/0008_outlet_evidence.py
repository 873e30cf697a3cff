"""Articles keep their visible standfirst, whether they are paywalled and where their text came
from (the page, or the feed when the page was refused); outlets keep the registry's metadata.

Revision ID: 0008_outlet_evidence
Revises: 0007_concept_pairs
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_outlet_evidence"
down_revision: str | None = "0007_concept_pairs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ARTICLE_COLUMNS = (
    sa.Column("standfirst", sa.Text(), nullable=True),
    sa.Column("paywalled", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("text_source", sa.String(8), nullable=False, server_default="page"),
)
OUTLET_COLUMNS = (
    sa.Column("country", sa.String(2), nullable=True),
    sa.Column("languages", sa.String(64), nullable=True),
    sa.Column("kind", sa.String(32), nullable=True),
    sa.Column("owner", sa.String(200), nullable=True),
    sa.Column("state_affiliated", sa.String(32), nullable=True),
)


def upgrade() -> None:
    # Plain ADD COLUMN: a batch (table copy) on SQLite would break the views over `articles`.
    # Only missing columns: a database adopted from before migrations may have them already.
    inspector = sa.inspect(op.get_bind())
    for table, columns in (("articles", ARTICLE_COLUMNS), ("outlets", OUTLET_COLUMNS)):
        present = {c["name"] for c in inspector.get_columns(table)}
        for column in columns:
            if column.name not in present:
                op.add_column(table, column._copy())


def downgrade() -> None:
    for table, columns in (("outlets", OUTLET_COLUMNS), ("articles", ARTICLE_COLUMNS)):
        for column in columns:
            # SQLite (3.35+) drops a column in place; Alembic would copy the table instead.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")
