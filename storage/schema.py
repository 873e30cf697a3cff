"""Schema versions: Alembic migrations bundled in `storage/migrations`, run from Python.

`open_database` creates the schema of an empty database (`upgrade` to head) and refuses one
whose revision is not the head (`check_schema` raises `SchemaOutOfDate`, whose message names
the command to run). `sahel db upgrade` migrates; `sahel db current` reports.

A database made before migrations existed (tables but no `alembic_version`) is adopted by
`upgrade`: the initial revision only creates the tables and indexes that are missing.
"""

from __future__ import annotations

import hashlib
import importlib
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from storage.db import DatabaseError, make_engine, read_only, safe_url
from storage.views import ANALYST_INDEX_NAMES

# Every module that defines tables on storage.models.Base.
MODEL_MODULES = ("storage.models", "storage.digests", "storage.dedup_queries", "storage.search")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Transaction-level advisory lock held by a PostgreSQL migration (see migrations/env.py).
MIGRATION_LOCK_KEY = int.from_bytes(hashlib.sha256(b"sahel:schema-migration").digest()[:8], "big", signed=True)
# Tables the scheduler creates and owns itself (schedules/records.py, APScheduler's job store).
SCHEDULER_TABLES = frozenset({"schedule_events", "scheduler_jobs"})
# Database objects the migrations make that the ORM models do not describe.
_UNMODELLED_PREFIXES = ("article_search_fts", "alembic_version")
_UNMODELLED_COLUMNS = frozenset({("article_search", "search_vector")})
_UNMODELLED_INDEXES = ANALYST_INDEX_NAMES | {"ix_article_search_vector"}


class SchemaOutOfDate(DatabaseError):
    """The database schema is not at the revision this version of the code needs."""


def target_metadata() -> MetaData:
    """The metadata of every table the migrations manage (all modules that define tables)."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    from storage.models import Base

    return Base.metadata


def autogenerate_include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave the scheduler's tables, the views' indexes and the search index's database-specific
    parts out of autogenerate comparisons."""
    if type_ == "table" and name and (name in SCHEDULER_TABLES or name.startswith(_UNMODELLED_PREFIXES)):
        return False
    if type_ == "index" and name in _UNMODELLED_INDEXES:
        return False
    return not (type_ == "column" and (obj.table.name, name) in _UNMODELLED_COLUMNS)


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR))


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The revision this version of the code needs."""
    head = _script().get_current_head()
    assert head is not None, "no migrations bundled"
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None when it has none (empty, or made before migrations)."""
    with read_only(engine).connect() as connection:  # never queues behind a crawl's writes
        return MigrationContext.configure(connection).get_current_revision()


def has_tables(engine: Engine) -> bool:
    """Whether the database holds any table the migrations manage."""
    managed = set(target_metadata().tables)
    with read_only(engine).connect() as connection:
        return bool(managed & set(inspect(connection).get_table_names()))


def _with_engine(engine_or_url: Engine | str) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, str):
        return make_engine(engine_or_url), True
    return engine_or_url, False


def _run(engine_or_url: Engine | str, action: str, revision: str) -> None:
    engine, owned = _with_engine(engine_or_url)
    _AT_HEAD.discard(_key(engine))
    try:
        config = _config()
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    finally:
        if owned:
            engine.dispose()


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Migrate the database up to `revision` (default: the head), creating it when empty."""
    _run(engine_or_url, "upgrade", revision)


def downgrade(engine_or_url: Engine | str, revision: str) -> None:
    """Migrate the database down to `revision` ("base" removes every managed table)."""
    _run(engine_or_url, "downgrade", revision)


def known_revisions() -> list[str]:
    """Every bundled revision, oldest first."""
    return [script.revision for script in reversed(list(_script().walk_revisions()))]


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutOfDate unless the database is at the head revision."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    where = safe_url(engine.url.render_as_string(hide_password=False))
    if current is None:
        raise SchemaOutOfDate(
            f"database {where} was created before schema migrations: run `sahel db upgrade --db {where}`"
        )
    if current not in known_revisions():
        raise SchemaOutOfDate(
            f"database {where} is at schema revision {current}, newer than this sahel knows "
            f"(head {head}): upgrade sahel"
        )
    raise SchemaOutOfDate(
        f"database {where} is at schema revision {current}, this sahel needs {head}: "
        f"run `sahel db upgrade --db {where}`"
    )


# Databases whose schema this process found at the head: the check runs once per process, not
# on every open (a crawl opens its database from several components). Migrations run through
# this module forget a database, so its next open checks again.
_AT_HEAD: set[str] = set()


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _stored_revision(engine: Engine) -> str | None:
    """The revision in `alembic_version`, read with one plain query (None without one)."""
    try:
        with read_only(engine).connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def ensure_schema(engine: Engine) -> None:
    """Create the schema of an empty database; refuse (SchemaOutOfDate) an out-of-date one."""
    if _key(engine) in _AT_HEAD and _stored_revision(engine) == head_revision():
        return  # a file replaced since (the demo's) has no revision: it is checked again
    if current_revision(engine) is None and not has_tables(engine):
        upgrade(engine)
    check_schema(engine)
    _AT_HEAD.add(_key(engine))
