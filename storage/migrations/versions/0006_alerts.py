"""Watch rules and alerts: each rule's evaluation state, its alerts (one per story), the
articles they list, their deliveries per channel, and articles re-flagged since.

Revision ID: 0006_alerts
Revises: 0005_search_index_format
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_alerts"
down_revision: str | None = "0005_search_index_format"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made before migrations from newer models may have them already (see 0001).
    if not sa.inspect(op.get_bind()).has_table("alert_rules"):
        _create_tables()


def _create_tables() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("rule_id", sa.String(64), primary_key=True),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("last_article_id", sa.Integer(), nullable=False),
        sa.Column("last_requeue_id", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("story_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("concepts", sa.Text(), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_alerts_rule_id", "alerts", ["rule_id"])
    op.create_index("ix_alerts_story_id", "alerts", ["story_id"])
    op.create_index("ux_alerts_rule_key", "alerts", ["rule_id", "key"], unique=True)
    op.create_table(
        "alert_articles",
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_alert_deliveries_alert_id", "alert_deliveries", ["alert_id"])
    op.create_index("ix_alert_deliveries_status", "alert_deliveries", ["status"])
    op.create_index("ux_alert_deliveries_alert_channel", "alert_deliveries", ["alert_id", "channel"], unique=True)
    op.create_table(
        "alert_requeue",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_alert_requeue_article_id", "alert_requeue", ["article_id"])


def downgrade() -> None:
    for name in ("alert_requeue", "alert_deliveries", "alert_articles", "alerts", "alert_rules"):
        op.drop_table(name)
