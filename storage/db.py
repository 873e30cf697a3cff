"""Engine and session factories: one engine per database URL, SQLite tuned for a crawl
writing while analysts read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util import asbool

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTION = "sahel_read_only"
# A failure's reason is one line of a log or a crawl_errors row, never a page of driver output.
MAX_REASON_CHARS = 500


class DatabaseError(RuntimeError):
    """The database cannot be used (bad URL, unreachable server, unwritable file)."""


class DatabaseURLError(DatabaseError):
    """The database URL itself is malformed (a usage error, not an outage)."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url`; for SQLite, create the parent folder and enable WAL.

    Raises DatabaseURLError for a malformed URL or unknown driver, DatabaseError when the
    folder of a SQLite file cannot be created.
    """
    parsed = _parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    try:
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseURLError(f"unusable database URL {safe_url(url)}: {exc}") from None


def _parse_url(url: str) -> Any:
    """The parsed URL; DatabaseURLError naming it when it is malformed (also a bad port number)."""
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(f"malformed database URL {safe_url(url)!r}: {exc}") from None
    except ValueError:  # SQLAlchemy parses the port with int()
        raise DatabaseURLError(f"malformed database URL {safe_url(url)!r}: the port is not a number") from None


def _sqlite_engine(parsed: Any, **kwargs: Any) -> Engine:
    _make_parent_folder(parsed)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN, so that writes can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, nor it them
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # BEGIN IMMEDIATE takes the write lock at the start, so a transaction never fails
        # half-way with "database is locked" when another writer got there first. Read-only
        # work (`read_only(engine)`) takes a plain BEGIN: a WAL snapshot, no lock, no waiting.
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names, or None (another database, in memory, or a URI filename:
    `?uri=true`, e.g. `file:x.db?mode=ro`, whose text is not a path). DatabaseURLError when
    the URL is malformed."""
    return _sqlite_file(_parse_url(url))


def _sqlite_file(parsed: Any) -> Path | None:
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or asbool(parsed.query.get("uri", False)):
        return None
    return Path(database).expanduser()


def _make_parent_folder(parsed: Any) -> None:
    """Create the folder of a SQLite file; DatabaseError when it cannot be (a parent that is a
    file, a read-only place)."""
    database = _sqlite_file(parsed)
    if database is None:
        return
    folder = database.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DatabaseError(
            f"cannot use database {safe_url(str(parsed))}: cannot create folder {folder}: {reason}"
        ) from None


def error_reason(exc: BaseException, *, with_kind: bool = False) -> str:
    """The database's own one-line reason for a failed statement or connection, without
    SQLAlchemy's statement, parameters and background link (which may repeat a whole article);
    `with_kind` puts the driver's exception class in front."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    line = lines[0] if lines else ""
    if with_kind:
        line = f"{type(cause).__name__}: {line}"
    return (line or type(cause).__name__)[:MAX_REASON_CHARS]


def safe_url(url: str) -> str:
    """The URL (of a database, Redis...) with any password hidden, for messages and logs."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<malformed URL>"
    if password is None:
        return url
    netloc = parts.netloc.replace(f":{password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def open_database(url: str) -> Engine:
    """Connect, create the schema of an empty database, and return the engine.

    The schema is made by the bundled migrations (`storage.schema`). Raises DatabaseError with
    a one-line reason when the database cannot be used, and its subclass SchemaOutOfDate,
    naming the command to run, when the database's schema is not the one this code needs.
    """
    from storage.schema import SchemaOutOfDate, ensure_schema  # storage.schema imports this module

    engine = make_engine(url)
    try:
        with read_only(engine).connect() as connection:  # a reachability check takes no write lock
            connection.execute(text("SELECT 1"))
        ensure_schema(engine)
    except SchemaOutOfDate:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = error_reason(exc)
        raise DatabaseError(f"cannot use database {safe_url(url)}: {reason}") from None
    return engine


def read_only(engine: Engine) -> Engine:
    """The same engine (pool, connection set-up) for lookups that never write: on SQLite their
    transactions do not take the write lock, so they never queue behind a crawl's writes."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def writable(engine: Engine) -> Engine:
    """The same engine with writes taking the write lock up front again (undoes `read_only`)."""
    return engine.execution_options(**{READ_ONLY_OPTION: False})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The sessionmaker the application uses for `engine` (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


def dialect_insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` for the session's database, with its ON CONFLICT clauses
    (SQLite and PostgreSQL have the same ones)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
