"""The schema as it stood when migrations were introduced: every crawler and digest table.

On a database made before migrations (by `create_all`), only the missing tables and indexes
are created, so `sahel db upgrade` adopts it.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Timestamps are naive UTC in the database (storage.models.UTCDateTime adds the zone on read).
UTC_TIME = sa.DateTime()

TABLES_IN_ORDER = (
    "outlets",
    "crawl_runs",
    "articles",
    "article_aliases",
    "keyword_hits",
    "article_signatures",
    "crawl_errors",
    "http_validators",
    "digest_runs",
    "article_revisions",
)


def _tables() -> dict[str, tuple[list[sa.SchemaItem], list[tuple[str, list[str]]]]]:
    """Each table: its columns and constraints, and its indexes as (name, columns)."""
    return {
        "outlets": (
            [
                sa.Column("id", sa.String(64), primary_key=True),
                sa.Column("name", sa.String(200), nullable=False),
                sa.Column("first_seen_at", UTC_TIME, nullable=False),
            ],
            [],
        ),
        "crawl_runs": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("started_at", UTC_TIME, nullable=False),
                sa.Column("finished_at", UTC_TIME),
                sa.Column("status", sa.String(16), nullable=False),
                sa.Column("finish_reason", sa.String(64)),
                sa.Column("outlets", sa.Text(), nullable=False),
                *(
                    sa.Column(name, sa.Integer(), nullable=False)
                    for name in (
                        "requests",
                        "pages_fetched",
                        "new_articles",
                        "updated_articles",
                        "exact_duplicates",
                        "near_duplicates",
                        "skipped_seen",
                        "not_modified",
                        "no_text",
                        "errors",
                    )
                ),
            ],
            [],
        ),
        "articles": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("url", sa.String(2048), nullable=False, unique=True),
                sa.Column("outlet_id", sa.String(64), sa.ForeignKey("outlets.id"), nullable=False),
                sa.Column("title", sa.Text()),
                sa.Column("author", sa.Text()),
                sa.Column("published_at", UTC_TIME),
                sa.Column("published_at_source", sa.String(16)),
                sa.Column("fetched_at", UTC_TIME, nullable=False),
                sa.Column("updated_at", UTC_TIME),
                sa.Column("language", sa.String(16)),
                sa.Column("language_prob", sa.Float()),
                sa.Column("text", sa.Text(), nullable=False),
                sa.Column("description", sa.Text()),
                sa.Column("text_hash", sa.String(64)),
                sa.Column("duplicate_of_id", sa.Integer(), sa.ForeignKey("articles.id")),
                sa.Column("discovered_via", sa.String(16)),
                sa.Column("lexicon_version", sa.String(64)),
                sa.Column("first_run_id", sa.Integer(), sa.ForeignKey("crawl_runs.id")),
            ],
            [
                ("ix_articles_duplicate_of_id", ["duplicate_of_id"]),
                ("ix_articles_language", ["language"]),
                ("ix_articles_outlet_id", ["outlet_id"]),
                ("ix_articles_published_at", ["published_at"]),
                ("ix_articles_text_hash", ["text_hash"]),
            ],
        ),
        "article_aliases": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
                sa.Column("url", sa.String(2048), nullable=False, unique=True),
                sa.Column("reason", sa.String(16), nullable=False),
                sa.Column("seen_at", UTC_TIME, nullable=False),
            ],
            [("ix_article_aliases_article_id", ["article_id"])],
        ),
        "keyword_hits": (
            [
                sa.Column(
                    "article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
                ),
                sa.Column("concept_id", sa.String(64), primary_key=True),
                sa.Column("form", sa.Text(), nullable=False),
                sa.Column("count", sa.Integer(), nullable=False),
                sa.Column("first_offset", sa.Integer(), nullable=False),
                sa.Column("snippet", sa.Text(), nullable=False),
            ],
            [("ix_keyword_hits_concept", ["concept_id"])],
        ),
        "article_signatures": (
            [
                sa.Column(
                    "article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
                ),
                sa.Column("signature", sa.LargeBinary(), nullable=False),
                sa.Column("created_at", UTC_TIME, nullable=False),
            ],
            [("ix_article_signatures_created_at", ["created_at"])],
        ),
        "crawl_errors": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("run_id", sa.Integer(), sa.ForeignKey("crawl_runs.id", ondelete="CASCADE"), nullable=False),
                sa.Column("outlet_id", sa.String(64)),
                sa.Column("url", sa.String(2048), nullable=False),
                sa.Column("kind", sa.String(32), nullable=False),
                sa.Column("reason", sa.Text(), nullable=False),
                sa.Column("at", UTC_TIME, nullable=False),
            ],
            [("ix_crawl_errors_run_id", ["run_id"])],
        ),
        "http_validators": (
            [
                sa.Column("url", sa.String(2048), primary_key=True),
                sa.Column("etag", sa.Text()),
                sa.Column("last_modified", sa.Text()),
                sa.Column("checked_at", UTC_TIME, nullable=False),
            ],
            [],
        ),
        "digest_runs": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("started_at", UTC_TIME, nullable=False),
                sa.Column("finished_at", UTC_TIME),
                sa.Column("period_start", UTC_TIME, nullable=False),
                sa.Column("period_end", UTC_TIME, nullable=False),
                sa.Column("label", sa.String(64), nullable=False),
                sa.Column("timezone", sa.String(64), nullable=False),
                sa.Column("delivery", sa.String(16), nullable=False),
                sa.Column("fmt", sa.String(16), nullable=False),
                sa.Column("recipients", sa.Text(), nullable=False),
                sa.Column("status", sa.String(16), nullable=False),
                sa.Column("stories", sa.Integer(), nullable=False),
                sa.Column("error", sa.Text()),
                sa.Column("claim_key", sa.String(512), unique=True),
            ],
            [],
        ),
        "article_revisions": (
            [
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
                sa.Column("title", sa.Text()),
                sa.Column("text", sa.Text(), nullable=False),
                sa.Column("text_hash", sa.String(64)),
                sa.Column("replaced_at", UTC_TIME, nullable=False),
                sa.Column("run_id", sa.Integer(), sa.ForeignKey("crawl_runs.id")),
            ],
            [("ix_article_revisions_article_id", ["article_id"])],
        ),
    }


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, (columns, indexes) in ((n, _tables()[n]) for n in TABLES_IN_ORDER):
        if name not in existing:
            op.create_table(name, *columns)
            known: set[str] = set()
        else:
            known = {index["name"] for index in inspector.get_indexes(name)}
        for index_name, index_columns in indexes:
            if index_name not in known:
                op.create_index(index_name, name, index_columns)


def downgrade() -> None:
    for name in reversed(TABLES_IN_ORDER):
        op.drop_table(name)
