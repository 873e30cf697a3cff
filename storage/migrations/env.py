"""Alembic environment: runs the migrations on the connection `storage.schema` hands over
(there is no offline mode: migrations always run on a live connection).

The whole upgrade (or downgrade) is one transaction: on SQLite the engine's BEGIN IMMEDIATE
holds the write lock from the moment the current revision is read, and on PostgreSQL a
transaction-level advisory lock does the same, so two processes opening a fresh database at
once never both migrate it. Both databases run DDL inside transactions, so a failed migration
leaves the schema as it was.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from storage.schema import MIGRATION_LOCK_KEY, autogenerate_include, target_metadata

config = context.config


def run_migrations() -> None:
    """Run the migrations on the connection given in `config.attributes["connection"]`."""
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        include_object=autogenerate_include,
        # SQLite runs DDL in transactions too once the driver's own transaction handling is
        # off, as storage.db arranges; one transaction for all steps keeps upgrades atomic.
        transactional_ddl=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


run_migrations()
