"""What every `sahel` command shares: error handling, exit statuses and common options.

Exit status: 0 when the command ran, 1 when it could not run (database unreachable, ...),
2 for bad usage or configuration. Every non-zero exit prints a one-line reason; a bad option
value is click's usage error (the usage line, then `Error: Invalid value for ...`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from sahel_crawler import settings as project_settings
from sahel_crawler.sources import RegistryError
from storage.db import DatabaseError, DatabaseURLError, open_database, read_only, session_factory, sqlite_file
from storage.filters import ArticleFilter
from storage.repository import known_languages, known_outlet_ids

F = TypeVar("F", bound=Callable[..., Any])


class CommandFailed(click.ClickException):
    """A command that could not run (exit status 1), with a one-line reason."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"sahel: error: {self.format_message()}", err=True)


class ConfigError(CommandFailed):
    """Bad usage or configuration (exit status 2)."""

    exit_code = 2


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's errors into one-line messages and the documented exit statuses."""
    try:
        yield
    except (RegistryError, DatabaseURLError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    except DatabaseError as exc:
        raise CommandFailed(str(exc)) from None


def require_database_file(db_url: str) -> None:
    """Refuse (exit 1) a SQLite database file that does not exist, naming what makes one: a read
    command must not leave an empty database (nor its folders) behind a mistyped path."""
    with user_errors():
        path = sqlite_file(db_url)
    if path is not None and not path.exists():
        raise CommandFailed(
            f"no database at {path}: `sahel crawl --db {db_url}` or `sahel demo --db-path {path}` makes one"
        )


@contextmanager
def reading_database(db_url: str) -> Iterator[Engine]:
    """The database of a command that reads it: an existing file (see `require_database_file`),
    opened with its schema checked, as a read-only engine (no write lock on SQLite), disposed
    when the block ends."""
    require_database_file(db_url)
    with user_errors():
        engine = open_database(db_url)
    try:
        yield read_only(engine)
    finally:
        engine.dispose()


@contextmanager
def writing_to(path: str) -> Iterator[None]:
    """Writing the output file `path`: an OSError becomes one line naming it, exit status 2 (like
    an unreadable input file, it is a path the user gave). Standard output ("-") is left alone."""
    try:
        yield
    except OSError as exc:
        if path == "-":
            raise
        reason = os.strerror(exc.errno) if exc.errno else str(exc)  # pyarrow wraps it in a paragraph
        raise ConfigError(f"cannot write {path}: {reason}") from None


def language_codes(codes: Iterable[str]) -> tuple[str, ...]:
    """--lang values as stored: lower-case codes (AR is ar)."""
    return tuple(dict.fromkeys(code.strip().lower() for code in codes))


def check_period(since: datetime | None, until: datetime | None) -> None:
    """Refuse an empty --since/--until period (exit 2), as `sahel digest` does."""
    if since is not None and until is not None and until <= since:
        # the converted bounds: a bare --until date has become the next midnight
        raise ConfigError(
            f"--until must be after --since: {since.isoformat()} to {until.isoformat()} is an empty period"
        )


def article_filter(
    engine: Engine,
    *,
    since: datetime | None,
    until: datetime | None,
    outlets: tuple[str, ...],
    languages: tuple[str, ...],
    concepts: tuple[str, ...],
) -> ArticleFilter:
    """The filter of `sahel export` and `sahel search`, checked so that a typo is an error rather
    than an empty result: outlets the database knows, lexicon concepts in any case (as `sahel
    digest` checks them), language codes the stored articles have (in any case). Raises ConfigError (exit status 2)."""
    check_period(since, until)
    codes = language_codes(languages)
    with session_factory(read_only(engine))() as session:
        if outlets:
            _refuse_unknown("outlet", outlets, known_outlet_ids(session))
        if codes:
            _refuse_unknown("language", codes, known_languages(session))
    ids: tuple[str, ...] = ()
    if concepts:
        from sahel_crawler.lexicon import load_lexicon  # only when filtering by concept

        with user_errors():
            ids = load_lexicon(project_settings.SAHEL_LEXICON_PATH).concept_ids(concepts)
    return ArticleFilter(
        since=since,
        until=until,
        outlets=tuple(dict.fromkeys(outlets)),
        languages=codes,
        concepts=ids,
    )


def _refuse_unknown(what: str, given: Iterable[str], known: list[str]) -> None:
    """ConfigError naming the first of `given` not in `known`, and the known ones."""
    unknown = [value for value in given if value not in known]
    if unknown:
        raise ConfigError(f"unknown {what} {unknown[0]}; known: {', '.join(known) or 'none (nothing crawled yet)'}")


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db_url",
        default=lambda: project_settings.SAHEL_DB_URL,
        show_default="SAHEL_DB_URL or sqlite:///data/sahel.db",
        help="Database URL (SQLAlchemy form).",
    )(func)


class When(click.ParamType):
    """A date (YYYY-MM-DD) or ISO 8601 time, converted to an aware UTC datetime (a time without
    an offset is UTC). As an `end` bound, a bare date means the end of that day."""

    name = "date"

    def __init__(self, *, end: bool = False) -> None:
        self.end = end

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return self._utc(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD) or ISO 8601 time", param, ctx)
        except OverflowError:  # the next midnight, or the time in UTC, is past year 9999 or before year 1
            self.fail(f"{value!r} is out of range (too close to year 1 or 9999)", param, ctx)

    def _utc(self, value: str) -> datetime:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if self.end else start
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


SINCE = When()  # type= of a --since option: the start of a bare date's day
UNTIL = When(end=True)  # type= of an --until option: a bare date includes that whole day


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    """Scrapy-style `-s NAME=VALUE` settings."""
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}: expected NAME=VALUE", param_hint="-s")
        overrides[name] = value
    return overrides
