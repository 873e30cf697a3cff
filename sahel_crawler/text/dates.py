"""Dates as publishers write them (feeds, sitemaps, pages): one parser for every source.

Pure functions: no I/O, no state.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser

# W3C datetime shortcuts that datetime.fromisoformat does not take: "2024" and "2024-05".
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")
# Common deviations from ISO 8601: a "UTC"/"GMT" suffix and an offset without its colon (+0100).
_ZONE_NAME = re.compile(r"\s*(?:UTC|GMT)$")
_OFFSET_WITHOUT_COLON = re.compile(r"([+-]\d\d)(\d\d)$")


def parse_date(raw: str | None, *, utc: bool = False) -> datetime | None:
    """Parse an ISO 8601 / W3C, RFC 822 or other unambiguous date into an aware datetime.

    The result keeps the offset the text declared (or is converted to UTC with `utc`); a date
    without a zone is taken as UTC; anything unparsable or impossible gives None.

    >>> parse_date("Tue, 05 Mar 2024 10:00:00 +0100", utc=True).isoformat()
    '2024-03-05T09:00:00+00:00'
    """
    if not raw or not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text:
        return None
    try:
        parsed = _parse_iso(text) or _parse_rfc822(text) or _parse_loose(text)
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC) if utc else parsed
    except (ValueError, OverflowError):
        return None


def _parse_iso(text: str) -> datetime | None:
    short = _YEAR_MONTH.fullmatch(text)
    if short:
        return datetime(int(short[1]), int(short[2] or 1), 1)
    if not text[:4].isdigit():
        return None
    text = _OFFSET_WITHOUT_COLON.sub(r"\1:\2", _ZONE_NAME.sub("+00:00", text))
    try:
        return datetime.fromisoformat(text.upper())  # "z"/"t" are legal in ISO 8601
    except ValueError:
        return None


def _parse_rfc822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _parse_loose(text: str) -> datetime | None:
    try:
        return dateutil_parser.parse(text, fuzzy=False)
    except (ValueError, OverflowError, TypeError):
        return None
