"""Full-text search: `article_search` (normalised text per article) and its index, an FTS5
table kept in step by triggers on SQLite, a generated tsvector column with GIN on PostgreSQL.

The index starts empty; `sahel db upgrade` and `sahel search` fill it (storage.search.sync_index).

Revision ID: 0003_full_text_search
Revises: 0002_analyst_views
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_full_text_search"
down_revision: str | None = "0002_analyst_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# External-content FTS5: the text is stored once, in article_search; snippet() reads it there.
SQLITE_UP = (
    "CREATE VIRTUAL TABLE article_search_fts USING fts5("
    "search_text, content='article_search', content_rowid='article_id', tokenize='unicode61')",
    "CREATE TRIGGER article_search_ai AFTER INSERT ON article_search BEGIN "
    "INSERT INTO article_search_fts(rowid, search_text) VALUES (new.article_id, new.search_text); END",
    "CREATE TRIGGER article_search_ad AFTER DELETE ON article_search BEGIN "
    "INSERT INTO article_search_fts(article_search_fts, rowid, search_text) "
    "VALUES ('delete', old.article_id, old.search_text); END",
    "CREATE TRIGGER article_search_au AFTER UPDATE ON article_search BEGIN "
    "INSERT INTO article_search_fts(article_search_fts, rowid, search_text) "
    "VALUES ('delete', old.article_id, old.search_text); "
    "INSERT INTO article_search_fts(rowid, search_text) VALUES (new.article_id, new.search_text); END",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS article_search_au",
    "DROP TRIGGER IF EXISTS article_search_ad",
    "DROP TRIGGER IF EXISTS article_search_ai",
    "DROP TABLE IF EXISTS article_search_fts",
)
# 'simple': lower-case words, no stemming and no stop words; the text is normalised already.
POSTGRESQL_UP = (
    "ALTER TABLE article_search ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED",
    "CREATE INDEX ix_article_search_vector ON article_search USING gin (search_vector)",
)


def upgrade() -> None:
    op.create_table(
        "article_search",
        sa.Column(
            "article_id",
            sa.Integer(),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == "sqlite" else POSTGRESQL_UP if dialect == "postgresql" else ():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    op.drop_table("article_search")
