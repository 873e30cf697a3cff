"""The schedule file: which jobs run when, validated on load.

Errors name the file, the job and the key, like the sources registry. See docs/operations.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
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
_TOP_KEYS = {"misfire_grace", "kill_grace", "jobs"}
_JOB_KEYS = {"kind", "every", "cron", "timezone", "time_limit", "outlets", "sources", "settings", "args", "command"}


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
    settings: tuple[tuple[str, str], ...] = ()
    args: tuple[str, ...] = ()
    command: tuple[str, ...] = ()

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger of this job."""
        if self.every is not None:
            return IntervalTrigger(seconds=self.every, timezone="UTC")
        assert self.cron is not None
        return CronTrigger.from_crontab(self.cron, timezone=ZoneInfo(self.timezone))

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
    return seconds


def format_duration(seconds: int) -> str:
    """The shortest exact form of a duration: 30m, 2h, 90s."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


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
            if len(cron.split()) != 5:
                raise ValueError("expected 5 fields (minute hour day month weekday)")
            CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))
        except ValueError as exc:
            raise ScheduleError(f"{where}: key 'cron': {cron!r} is not a valid cron expression: {exc}") from None
    every = parse_duration(entry["every"], f"{where}: key 'every'") if "every" in entry else None
    limit = entry.get("time_limit", DEFAULT_TIME_LIMITS[kind])
    command = _strings(where, "command", entry.get("command", []))
    if kind == "command" and not command:
        raise ScheduleError(f"{where}: key 'command' (a list: program and arguments) is required for kind command")
    if kind != "command" and command:
        raise ScheduleError(f"{where}: key 'command' is only for kind command")
    misplaced = sorted({"outlets", "sources", "settings"} & set(entry)) if kind != "crawl" else []
    if misplaced:
        raise ScheduleError(f"{where}: key {misplaced[0]!r} is only for kind crawl")
    settings = entry.get("settings", {})
    if not isinstance(settings, dict) or not all(isinstance(k, str) and k for k in settings):
        raise ScheduleError(f"{where}: key 'settings' must map setting names to values")
    sources = entry.get("sources")
    return JobSpec(
        id=jid,
        kind=kind,
        every=every,
        cron=cron,
        timezone=timezone,
        time_limit=parse_duration(limit, f"{where}: key 'time_limit'"),
        outlets=_strings(where, "outlets", entry.get("outlets", [])),
        # Relative to the schedule file, so a daemon started from any directory finds it.
        sources=str(base / sources) if sources else None,
        settings=tuple((k, _setting_value(v)) for k, v in settings.items()),
        args=_strings(where, "args", entry.get("args", [])),
        command=command,
    )


def _strings(where: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ScheduleError(f"{where}: key {key!r} must be a list of strings")
    return tuple(str(v) for v in value)


def _setting_value(value: Any) -> str:
    # Lists become comma-separated, the form `-s NAME=a,b` takes.
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
