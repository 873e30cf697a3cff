"""The schedule file: which jobs run when, validated on load.

Errors name the file, the job and the key, like the sources registry. See docs/operations.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

# A YAML reader only (no crawler code): the scheduler never imports the code it schedules.
from sahel_crawler.configfile import ConfigFileError, read_yaml

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
_TOP_KEYS = {"misfire_grace", "kill_grace", "jobs"}
_JOB_KEYS = {
    "kind", "every", "cron", "timezone", "time_limit", "outlets", "sources", "watch", "settings", "args", "command"
}  # fmt: skip


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


def parse_duration(value: Any, where: str) -> int:
    """Seconds from an int or a string such as "90s", "30m", "2h", "1d"; must be positive."""
    if isinstance(value, bool):
        raise ScheduleError(f"{where}: expected a duration such as 30m, got {value!r}")
    if isinstance(value, int):
        seconds = value
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ScheduleError(f"{where}: expected a duration such as 90s, 30m, 2h or 1d, got {value!r}")
        seconds = int(match[1]) * _UNITS[match[2]]
    if seconds <= 0:
        raise ScheduleError(f"{where}: the duration must be positive")
    if seconds > MAX_DURATION:
        raise ScheduleError(f"{where}: the duration must be at most {format_duration(MAX_DURATION)}, got {value!r}")
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
            raise ValueError(f"weekday step {step_text!r} is not a positive number")
        step = int(step_text) if slash else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first, last = (_cron_weekday(end) for end in span.split("-", 1))
        elif slash:
            raise ValueError(f"a weekday step needs a range or * in {part!r}")
        else:
            first = last = _cron_weekday(span)
        if first > last:
            raise ValueError(f"weekday range {span!r} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(_CRON_WEEKDAYS[d] for d in sorted(days))


def _cron_weekday(text: str) -> int:
    if text in _CRON_WEEKDAYS:
        return _CRON_WEEKDAYS.index(text)
    if not text.isdigit() or int(text) > 7:
        raise ValueError(f"weekday {text!r} is not 0-7 (0 and 7: Sunday) or a name (sun-sat)")
    return int(text)


def load_schedule(path: str | Path | None = None) -> Schedule:
    """Read and validate a schedule file (the bundled default when `path` is None)."""
    path = Path(path) if path else DEFAULT_SCHEDULE
    try:
        raw = read_yaml(path, "schedule file")
    except ConfigFileError as exc:
        raise ScheduleError(str(exc)) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("jobs"), dict) or not raw["jobs"]:
        raise ScheduleError(f"{path}: expected a mapping with a non-empty 'jobs:' mapping at the top")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise ScheduleError(f"{path}: unknown top-level key {sorted(unknown)[0]!r}")
    base = path.resolve().parent
    return Schedule(
        path=path,
        jobs={jid: _parse_job(path, base, jid, entry) for jid, entry in raw["jobs"].items()},
        misfire_grace=parse_duration(raw.get("misfire_grace", 600), f"{path}: key 'misfire_grace'"),
        kill_grace=parse_duration(raw.get("kill_grace", 30), f"{path}: key 'kill_grace'"),
    )


def _parse_job(path: Path, base: Path, jid: Any, entry: Any) -> JobSpec:
    where = f"{path}: job {jid!r}"
    if not isinstance(jid, str) or not _JOB_ID.match(jid):
        raise ScheduleError(f"{where}: job id must match [a-z0-9_-]+")
    if not isinstance(entry, dict):
        raise ScheduleError(f"{where}: expected a mapping of keys")
    unknown = set(entry) - _JOB_KEYS
    if unknown:
        raise ScheduleError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise ScheduleError(f"{where}: key 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    if ("every" in entry) == ("cron" in entry):
        raise ScheduleError(f"{where}: give exactly one of the keys 'every' and 'cron'")
    timezone = str(entry.get("timezone", "UTC"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{where}: key 'timezone': unknown time zone {timezone!r}") from None
    cron = entry.get("cron")
    if cron is not None:
        cron = " ".join(str(cron).split())
        try:
            cron_trigger(cron, timezone)
        except ValueError as exc:
            raise ScheduleError(f"{where}: key 'cron': {cron!r} is not a valid cron expression: {exc}") from None
    every = parse_duration(entry["every"], f"{where}: key 'every'") if "every" in entry else None
    limit = entry.get("time_limit", DEFAULT_TIME_LIMITS[kind])
    command = _strings(where, "command", entry.get("command", []))
    if kind == "command" and not command:
        raise ScheduleError(f"{where}: key 'command' (a list: program and arguments) is required for kind command")
    if kind != "command" and command:
        raise ScheduleError(f"{where}: key 'command' is only for kind command")
    misplaced = sorted({"outlets", "sources", "watch", "settings"} & set(entry)) if kind != "crawl" else []
    if misplaced:
        raise ScheduleError(f"{where}: key {misplaced[0]!r} is only for kind crawl")
    settings = entry.get("settings", {})
    if not isinstance(settings, dict) or not all(isinstance(k, str) and k for k in settings):
        raise ScheduleError(f"{where}: key 'settings' must map setting names to values")
    sources, watch = entry.get("sources"), entry.get("watch")
    spec = JobSpec(
        id=jid,
        kind=kind,
        every=every,
        cron=cron,
        timezone=timezone,
        time_limit=parse_duration(limit, f"{where}: key 'time_limit'"),
        outlets=_strings(where, "outlets", entry.get("outlets", [])),
        # Relative to the schedule file, so a daemon started from any directory finds it.
        sources=str(base / sources) if sources else None,
        watch=str(base / watch) if watch else None,
        settings=tuple((k, _setting_value(v)) for k, v in settings.items()),
        args=_strings(where, "args", entry.get("args", [])),
        command=command,
    )
    _check_fires(spec, where)
    return spec


def _check_fires(spec: JobSpec, where: str) -> None:
    """Refuse a timing that never comes (a cron expression naming no real day)."""
    now = datetime.now(UTC)
    try:
        next_run = spec.trigger().get_next_fire_time(None, now)
    except (ValueError, OverflowError) as exc:
        raise ScheduleError(f"{where}: key '{'cron' if spec.cron else 'every'}': {exc}") from None
    if next_run is None or next_run - now > FIRE_HORIZON:
        raise ScheduleError(f"{where}: key 'cron': {spec.cron!r} never runs (no time matches it in the next 5 years)")


def _strings(where: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ScheduleError(f"{where}: key {key!r} must be a list of strings")
    return tuple(str(v) for v in value)


def _setting_value(value: Any) -> str:
    # Lists become comma-separated, the form `-s NAME=a,b` takes.
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
