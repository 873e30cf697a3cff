"""The period a digest covers: local days in the digest's time zone, queried as UTC bounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


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


def day_period(day: date, timezone: str) -> Period:
    """The local day `day` in `timezone`."""
    tz = zone(timezone)
    return Period(local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz), timezone, day.isoformat())


def yesterday(timezone: str, now: datetime | None = None) -> Period:
    """The day before today in `timezone` (the default digest)."""
    tz = zone(timezone)
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    return day_period(today - timedelta(days=1), timezone)


def parse_moment(value: str, timezone: str, *, end: bool = False) -> datetime:
    """A bound given as YYYY-MM-DD or ISO 8601, as aware UTC. Bare dates and times without an
    offset are local to `timezone`; a bare date as an `end` bound means the end of that day."""
    tz = zone(timezone)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return local_midnight(day + timedelta(days=1) if end else day, tz)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from None
    return (moment.replace(tzinfo=tz) if moment.tzinfo is None else moment).astimezone(UTC)


def range_period(since: str, until: str | None, timezone: str, now: datetime | None = None) -> Period:
    """The period from `since` to `until` (default: now); ValueError when it is empty."""
    start = parse_moment(since, timezone)
    finish = parse_moment(until, timezone, end=True) if until else (now or datetime.now(UTC))
    if finish <= start:
        raise ValueError(f"--until ({until or 'now'}) must be after --since ({since})")
    return Period(start, finish, timezone, f"{since}/{until or 'now'}")
