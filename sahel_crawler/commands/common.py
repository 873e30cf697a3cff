"""What every `sahel` command shares: error handling, exit statuses and common options.

Exit status: 0 when the command ran, 1 when it could not run (database unreachable, ...),
2 for bad usage or configuration. Every non-zero exit prints a one-line reason; a bad option
value is click's usage error (the usage line, then `Error: Invalid value for ...`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import click

from sahel_crawler import settings as project_settings
from sahel_crawler.sources import RegistryError
from storage.db import DatabaseError, DatabaseURLError

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    """A command that could not run (exit status 1), with a one-line reason."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"sahel: error: {self.format_message()}", err=True)


class ConfigError(Failure):
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
        raise Failure(str(exc)) from None


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
            if len(value) == 10:
                day = date.fromisoformat(value)
                start = datetime(day.year, day.month, day.day, tzinfo=UTC)
                return start + timedelta(days=1) if self.end else start
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD) or ISO 8601 time", param, ctx)
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
