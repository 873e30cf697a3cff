"""Named, non-blocking locks tied to one database: a scheduler per database, a crawl per outlet.

PostgreSQL: a session advisory lock (`pg_try_advisory_lock`), held by a connection of the process's
engine (`storage.db.acquire_engine`),
so it works across hosts and dies with the process. Anything else: `fcntl.flock` on a file in a
folder next to the SQLite file (`<db file>.locks/<name>.lock`), or, for a database without a
file, in the temporary folder. The kernel drops either lock when the holder exits, even on kill -9.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from storage.db import DatabaseError, DatabaseURLError, acquire_engine, error_reason, release_engine

logger = logging.getLogger(__name__)


class LockHeld(RuntimeError):
    """Another process holds the lock; `where` says where it lives, `holder` who has it (if known)."""

    def __init__(self, name: str, where: str, holder: str = "") -> None:
        self.name, self.where, self.holder = name, where, holder
        detail = f" by {holder}" if holder else ""
        super().__init__(f"lock {name!r} is held{detail} ({where})")


def _backend(db_url: str) -> tuple[str, str | None]:
    """(backend name, SQLite file path or None)."""
    try:
        url = make_url(db_url)
    except ArgumentError as exc:
        raise DatabaseURLError(f"malformed database URL {db_url!r}: {exc}") from None
    backend = url.get_backend_name()
    database = url.database if backend == "sqlite" else None
    if database in ("", ":memory:") or (database and database.startswith("file:")):
        database = None
    return backend, database


def lock_dir(db_url: str) -> Path:
    """The folder of the file locks of this database (created on demand by `database_lock`)."""
    _, sqlite_file = _backend(db_url)
    if sqlite_file:
        path = Path(sqlite_file).expanduser().resolve()
        return path.with_name(path.name + ".locks")
    digest = hashlib.sha256(db_url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"sahel-locks-{digest}"


def describe_lock(db_url: str, name: str) -> str:
    """Where the lock `name` of this database lives, in words (for messages and docs)."""
    backend, _ = _backend(db_url)
    if backend == "postgresql":
        return f"PostgreSQL advisory lock {advisory_key(name)}"
    return str(lock_dir(db_url) / f"{name}.lock")


def advisory_key(name: str) -> int:
    """The 64-bit PostgreSQL advisory lock key of a lock name."""
    return int.from_bytes(hashlib.sha256(f"sahel:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def database_lock(db_url: str, name: str) -> Iterator[str]:
    """Hold the lock `name` of this database for the `with` block; yields where it lives.

    Never waits: raises LockHeld at once when another process holds it, DatabaseError when
    the lock cannot be taken at all (server unreachable, folder not writable).
    """
    backend, _ = _backend(db_url)
    if backend == "postgresql":
        with _advisory_lock(db_url, name) as where:
            yield where
    else:
        with _file_lock(lock_dir(db_url) / f"{name}.lock", name) as where:
            yield where


@contextmanager
def _file_lock(path: Path, name: str) -> Iterator[str]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # "a+" creates the file without truncating the holder's note before we own the lock.
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed below, after unlocking
    except OSError as exc:
        raise DatabaseError(f"cannot create lock file {path}: {exc}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise LockHeld(name, str(path), handle.read().strip()) from None
        # The file stays in place after release: deleting lock files races with new holders.
        handle.seek(0)
        handle.truncate()
        handle.write(_holder_note())
        handle.flush()
        try:
            yield str(path)
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


@contextmanager
def _advisory_lock(db_url: str, name: str) -> Iterator[str]:
    key = advisory_key(name)
    where = f"PostgreSQL advisory lock {key}"
    # One connection of the process's engine held for the lock's life, in autocommit so it
    # never sits "idle in transaction" for days.
    engine = acquire_engine(db_url, check_schema=False)
    try:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except SQLAlchemyError as exc:
        release_engine(db_url)
        reason = error_reason(exc)
        raise DatabaseError(f"cannot take lock {name!r}: {reason}") from None
    try:
        if not connection.scalar(select(func.pg_try_advisory_lock(key))):
            unsigned = key & 0xFFFFFFFFFFFFFFFF
            holder = connection.scalar(_HOLDER_SQL, {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF})
            raise LockHeld(name, where, f"pid {holder} on the database server" if holder else "")
        try:
            yield where
        finally:
            try:
                connection.scalar(select(func.pg_advisory_unlock(key)))
            except SQLAlchemyError as exc:  # the lock's connection was lost: the lock went with it
                reason = error_reason(exc)
                logger.warning("lock %r was already released: its database connection was lost (%s)", name, reason)
    finally:
        connection.close()
        release_engine(db_url)


def _holder_note() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n"


# pg_locks splits a bigint advisory key into classid (high 32 bits) and objid (low 32 bits).
_HOLDER_SQL = text(
    "SELECT string_agg(pid::text, ',') FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND classid::bigint = :high AND objid::bigint = :low"
)
