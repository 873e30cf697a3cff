"""What every `sahel` command shares: error handling, exit statuses and common options.

Exit status: 0 when the command ran, 1 when it could not run (database unreachable, ...),
2 for bad usage or configuration. Every non-zero exit prints a one-line reason.
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


def parse_when(value: str | None, *, end: bool = False, option: str = "--since") -> datetime | None:
    """A date (YYYY-MM-DD) or ISO 8601 time as aware UTC; a bare date as an `end` bound means
    the end of that day. Raises ConfigError naming `option` on impossible values."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option}: {value!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    """Scrapy-style `-s NAME=VALUE` settings."""
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}: expected NAME=VALUE", param_hint="-s")
        overrides[name] = value
    return overrides
