"""Months of a backfill period, and the month an archive document or capture belongs to."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

# A year and month in an archive sitemap's file name: contents_202609.xml, 2026-09.xml, 2026/09/
_MONTH_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_/]?(0[1-9]|1[0-2])(?!\d)")


def month_of(moment: datetime) -> str:
    """The month (YYYY-MM, UTC) of an aware datetime."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def months_between(since: datetime, until: datetime) -> list[str]:
    """Every month (YYYY-MM) that the period [since, until) touches, oldest first."""
    months = []
    year, month = since.astimezone(UTC).year, since.astimezone(UTC).month
    last = until.astimezone(UTC)
    while (year, month) < (last.year, last.month) or (
        (year, month) == (last.year, last.month) and last > datetime(year, month, 1, tzinfo=UTC)
    ):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_in_url(url: str) -> str | None:
    """The month (YYYY-MM) a monthly archive sitemap's URL names in its path, or None."""
    # the last one: a file name's month wins over a folder's year-like number
    matches = list(_MONTH_IN_NAME.finditer(urlsplit(url).path))
    return f"{matches[-1].group(1)}-{matches[-1].group(2)}" if matches else None
