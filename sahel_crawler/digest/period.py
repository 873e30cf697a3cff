"""The period a digest covers: local days in the digest's time zone, queried as UTC bounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A digest looks back up to 14 local days before its period (chart, trend) and converts days
# between time zones: its days stay a year inside the calendar Python represents (years 1-9999).
FIRST_DAY = date(2, 1, 1)
LAST_DAY = date(9998, 12, 31)


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, with the zone whose local days it was computed in.

    `label` is the local date (YYYY-MM-DD) for a one-day digest, "START/END" for a range.
    """

    start: datetime
    end: datetime
    timezone: str
    label: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def first_day(self) -> date:
        """The local date the period starts on."""
        return self.start.astimezone(self.zone).date()

    @property
    def last_day(self) -> date:
        """The local date of the period's last instant."""
        return (self.end - timedelta(microseconds=1)).astimezone(self.zone).date()

    @property
    def days(self) -> float:
        """The period's length in days: whole local days when it runs from midnight to midnight
        (a 23-hour daylight-saving day is one day), else hours / 24."""
        tz = self.zone
        start, end = self.start.astimezone(tz), self.end.astimezone(tz)
        if start.time() == end.time() == time(0):
            return float((end.date() - start.date()).days)
        return (self.end - self.start).total_seconds() / 86400


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValueError with a one-line reason when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (expected an IANA name such as Africa/Bamako)") from None


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `tz` (correct across DST changes)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def check_day(day: date) -> None:
    """ValueError when a digest cannot cover `day` (before FIRST_DAY or after LAST_DAY)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day.isoformat()!r} is out of range (a digest covers {FIRST_DAY} to {LAST_DAY})")


def day_period(day: date, timezone: str) -> Period:
    """The local day `day` in `timezone`; ValueError when it is out of range."""
    check_day(day)
    tz = zone(timezone)
    return Period(local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz), timezone, day.isoformat())


def yesterday(timezone: str, now: datetime | None = None) -> Period:
    """The day before today in `timezone` (the default digest)."""
    tz = zone(timezone)
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    return day_period(today - timedelta(days=1), timezone)


def parse_bound(value: str) -> date | datetime:
    """A --since/--until value, not yet placed in a time zone: YYYY-MM-DD as a date, any other
    ISO 8601 time as a datetime (naive without an offset). ValueError when it is neither, or
    out of range."""
    try:
        bound = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from None
    return _in_range(bound)


def _in_range(bound: date) -> date:
    check_day(bound.date() if isinstance(bound, datetime) else bound)
    return bound


def parse_moment(value: str | date, timezone: str, *, end: bool = False) -> datetime:
    """A bound given as YYYY-MM-DD or ISO 8601 (or parsed by `parse_bound`), as aware UTC. Bare
    dates and times without an offset are local to `timezone`; a bare date as an `end` bound
    means the end of that day."""
    bound = parse_bound(value) if isinstance(value, str) else _in_range(value)
    tz = zone(timezone)
    if isinstance(bound, datetime):
        return (bound.replace(tzinfo=tz) if bound.tzinfo is None else bound).astimezone(UTC)
    return local_midnight(bound + timedelta(days=1) if end else bound, tz)


def range_period(since: str | date, until: str | date | None, timezone: str, now: datetime | None = None) -> Period:
    """The period from `since` to `until` (default: now); ValueError when it is empty."""
    start = parse_moment(since, timezone)
    finish = parse_moment(until, timezone, end=True) if until else (now or datetime.now(UTC))
    first, last = _text(since), _text(until) if until else "now"
    if finish <= start:
        raise ValueError(f"--until ({last}) must be after --since ({first})")
    return Period(start, finish, timezone, f"{first}/{last}")


def _text(bound: str | date) -> str:
    return bound if isinstance(bound, str) else bound.isoformat()
