"""The schedule file: which jobs run when, validated on load.

Errors name the file, the job and the key, like the sources registry. See docs/operations.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

# A YAML reader and its messages only (no crawler code): the scheduler never imports the code it schedules.
from sahel_crawler.config_errors import shown, validated
from sahel_crawler.configfile import ConfigFileError, clipped, read_yaml

DEFAULT_SCHEDULE = Path(__file__).with_name("default.yaml")
KINDS = ("crawl", "digest", "command")
DEFAULT_TIME_LIMITS = {"crawl": 25 * 60, "digest": 10 * 60, "command": 10 * 60}
_JOB_ID = re.compile(r"^[a-z0-9_-]+$")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# Longer durations are mistakes, and overflow the date arithmetic of the scheduler.
MAX_DURATION = 366 * 86400
# A job that would not run within this long is a mistake (e.g. "0 6 31 2 *", never).
FIRE_HORIZON = timedelta(days=5 * 366)
# Cron's weekday numbers: 0 and 7 are Sunday. APScheduler counts from Monday, so the field is
# translated to names, which mean the same to both.
_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class ScheduleError(ValueError):
    """A schedule file that cannot be used; the message names the file, the job and the key."""


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: what to run (kind and arguments) and when (every N seconds or cron)."""

    id: str
    kind: str
    every: int | None = None  # seconds
    cron: str | None = None  # 5 fields, read in `timezone`
    timezone: str = "UTC"
    time_limit: int = DEFAULT_TIME_LIMITS["crawl"]  # seconds
    outlets: tuple[str, ...] = ()
    sources: str | None = None
    watch: str | None = None  # watch rules file: `sahel crawl --watch` (docs/alerts.md)
    settings: tuple[tuple[str, str], ...] = ()
    args: tuple[str, ...] = ()
    command: tuple[str, ...] = ()

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger of this job."""
        if self.every is not None:
            return IntervalTrigger(seconds=self.every, timezone="UTC")
        assert self.cron is not None
        return cron_trigger(self.cron, self.timezone)

    def when(self) -> str:
        """The timing in words, e.g. "every 30m" or "cron '0 6 * * *' Africa/Bamako"."""
        if self.every is not None:
            return f"every {format_duration(self.every)}"
        return f"cron '{self.cron}' {self.timezone}"


@dataclass(frozen=True)
class Schedule:
    """A whole schedule file."""

    path: Path
    jobs: dict[str, JobSpec]
    misfire_grace: int = 600  # a run late by less than this still runs (once: runs coalesce)
    kill_grace: int = 30  # seconds between SIGTERM and SIGKILL when a job overruns


def parse_duration(value: Any) -> int:
    """Seconds from an int or a string such as "90s", "30m", "2h", "1d"; must be positive.

    Raises ValueError with the reason.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30m, got {shown(value)}")
    if isinstance(value, int):
        seconds = value
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration such as 90s, 30m, 2h or 1d, got {shown(value)}")
        seconds = int(match[1]) * _UNITS[match[2]]
    if seconds <= 0:
        raise ValueError("the duration must be positive")
    if seconds > MAX_DURATION:
        raise ValueError(f"the duration must be at most {format_duration(MAX_DURATION)}, got {shown(value)}")
    return seconds


def format_duration(seconds: int) -> str:
    """The shortest exact form of a duration: 30m, 2h, 90s."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def cron_trigger(expression: str, timezone: str) -> BaseTrigger:
    """The trigger of a 5-field cron expression with standard cron's meaning, read in `timezone`.

    Weekdays count from Sunday (0 or 7). When both the day of month and the day of week are
    restricted (neither starts with `*`), cron runs on days matching either; APScheduler would
    need both, so that case is two triggers. Raises ValueError for an invalid expression.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError("expected 5 fields (minute hour day month weekday)")
    minute, hour, day, month, weekday = fields
    common = {"minute": minute, "hour": hour, "month": month, "timezone": ZoneInfo(timezone)}
    days_of_week = cron_weekdays(weekday)
    if day.startswith("*") or weekday.startswith("*"):
        return CronTrigger(day=day, day_of_week=days_of_week, **common)
    return OrTrigger([CronTrigger(day=day, **common), CronTrigger(day_of_week=days_of_week, **common)])


def cron_weekdays(field: str) -> str:
    """A cron day-of-week field (numbers from Sunday, 0-7, or names; lists, ranges and steps)
    as an APScheduler day_of_week field of weekday names. Raises ValueError."""
    days: set[int] = set()
    for part in field.lower().split(","):
        span, slash, step_text = part.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise ValueError(f"weekday step {shown(step_text)} is not a positive number")
        step = int(step_text) if slash else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first, last = (_cron_weekday(end) for end in span.split("-", 1))
        elif slash:
            raise ValueError(f"a weekday step needs a range or * in {shown(part)}")
        else:
            first = last = _cron_weekday(span)
        if first > last:
            raise ValueError(f"weekday range {shown(span)} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(_CRON_WEEKDAYS[d] for d in sorted(days))


def _cron_weekday(text: str) -> int:
    if text in _CRON_WEEKDAYS:
        return _CRON_WEEKDAYS.index(text)
    if not text.isdigit() or int(text) > 7:
        raise ValueError(f"weekday {shown(text)} is not 0-7 (0 and 7: Sunday) or a name (sun-sat)")
    return int(text)


def load_schedule(path: str | Path | None = None) -> Schedule:
    """Read and validate a schedule file (the bundled default when `path` is None)."""
    path = Path(path) if path else DEFAULT_SCHEDULE
    try:
        raw = read_yaml(path, "schedule file")
    except ConfigFileError as exc:
        raise ScheduleError(str(exc)) from None
    shape = "expected a mapping with a non-empty 'jobs:' mapping at the top"
    document = validated(_ScheduleFile, raw, path, error=ScheduleError, container="jobs", entry="job", shape=shape)
    base = path.resolve().parent
    jobs = {jid: entry.spec(jid, base) for jid, entry in document.jobs.items()}
    for jid, spec in jobs.items():
        _check_fires(spec, f"{path}: job {shown(jid)}")
    return Schedule(path=path, jobs=jobs, misfire_grace=document.misfire_grace, kill_grace=document.kill_grace)


def _job_id(value: str) -> str:
    if not _JOB_ID.match(value):
        raise ValueError("job id must match [a-z0-9_-]+")
    return value


def _kind(value: Any) -> str:
    if value not in KINDS:
        raise ValueError(f"must be one of {', '.join(KINDS)}, got {shown(value)}")
    return str(value)


def _time_zone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ValueError(f"unknown time zone {shown(value)}") from None
    return str(value)


def _setting_value(value: Any) -> str:
    # Lists become comma-separated, the form `-s NAME=a,b` takes.
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _setting_name(value: str) -> str:
    if not value:
        raise ValueError("must map setting names to values")
    return value


_Duration = Annotated[int, BeforeValidator(parse_duration)]
_Words = list[Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int | float) else v)]]


class _JobEntry(BaseModel):
    """One job as the schedule file writes it (docs/operations.md)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Annotated[str, BeforeValidator(_kind)]
    timezone: Annotated[str, BeforeValidator(_time_zone)] = "UTC"
    every: _Duration | None = None
    cron: str | None = None
    time_limit: _Duration | None = None
    outlets: _Words = []
    sources: str | None = None
    watch: str | None = None
    settings: dict[Annotated[str, AfterValidator(_setting_name)], Annotated[str, BeforeValidator(_setting_value)]] = {}
    args: _Words = []
    command: _Words = []

    @field_validator("cron", mode="before")
    @classmethod
    def _valid_cron(cls, cron: Any, info: ValidationInfo) -> Any:
        if cron is None:
            return None
        cron = " ".join(str(cron).split())
        try:
            cron_trigger(cron, info.data.get("timezone", "UTC"))
        except ValueError as exc:
            raise ValueError(f"{shown(cron)} is not a valid cron expression: {clipped(exc)}") from None
        return cron

    @model_validator(mode="after")
    def _fits_its_kind(self) -> _JobEntry:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of the keys 'every' and 'cron'")
        if self.kind == "command" and not self.command:
            raise ValueError("key 'command' (a list: program and arguments) is required for kind command")
        if self.kind != "command" and self.command:
            raise ValueError("key 'command' is only for kind command")
        crawl_only = {"outlets", "sources", "watch", "settings"}
        misplaced = sorted(crawl_only & self.model_fields_set) if self.kind != "crawl" else []
        if misplaced:
            raise ValueError(f"key {shown(misplaced[0])} is only for kind crawl")
        return self

    def spec(self, jid: str, base: Path) -> JobSpec:
        """The JobSpec of this entry; `sources` and `watch` are read relative to the schedule file's folder."""
        return JobSpec(
            id=jid,
            kind=self.kind,
            every=self.every,
            cron=self.cron,
            timezone=self.timezone,
            time_limit=self.time_limit or DEFAULT_TIME_LIMITS[self.kind],
            outlets=tuple(self.outlets),
            # Relative to the schedule file, so a daemon started from any directory finds it.
            sources=str(base / self.sources) if self.sources else None,
            watch=str(base / self.watch) if self.watch else None,
            settings=tuple(self.settings.items()),
            args=tuple(self.args),
            command=tuple(self.command),
        )


class _ScheduleFile(BaseModel):
    """The whole schedule file."""

    model_config = ConfigDict(extra="forbid")

    jobs: Annotated[dict[Annotated[str, AfterValidator(_job_id)], _JobEntry], Field(min_length=1)]
    misfire_grace: _Duration = 600
    kill_grace: _Duration = 30


def _check_fires(spec: JobSpec, where: str) -> None:
    """Refuse a timing that never comes (a cron expression naming no real day)."""
    now = datetime.now(UTC)
    try:
        next_run = spec.trigger().get_next_fire_time(None, now)
    except (ValueError, OverflowError) as exc:
        raise ScheduleError(f"{where}: key '{'cron' if spec.cron else 'every'}': {clipped(exc)}") from None
    if next_run is None or next_run - now > FIRE_HORIZON:
        raise ScheduleError(
            f"{where}: key 'cron': {shown(spec.cron)} never runs (no time matches it in the next 5 years)"
        )
