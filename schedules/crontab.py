"""The schedule as crontab lines, for users who prefer cron to the daemon.

Each line runs `sahel schedule run-job ID` under `flock -n` (util-linux), so a run still going when the next
is due makes the new one exit at once; the job itself keeps its time limit and run records.
Lines first `cd` to a fixed folder (cron starts them in the home folder), so relative paths in a
job's arguments mean what they mean to the daemon; the database URL is a crontab variable
(SAHEL_DB_URL), not an argument that `ps` would show to every local user.
"""

from __future__ import annotations

import shlex
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from schedules.config import JobSpec, Schedule, format_duration
from storage.locks import lock_dir


def cron_fields(spec: JobSpec) -> tuple[str | None, str]:
    """The 5 cron fields (in UTC) for a job, or None with the reason cron cannot express it."""
    if spec.every is not None:
        return _interval_fields(spec.every)
    assert spec.cron is not None
    fields = spec.cron.split()
    offset = _fixed_offset(spec.timezone)
    if offset is None:
        return None, f"{spec.timezone} changes its UTC offset during the year; cron reads times in one zone"
    if offset == timedelta(0):
        return " ".join(fields), ""
    minute, hour, day, month, weekday = fields
    hours = hour.split(",")
    if offset % timedelta(hours=1) or (day, month, weekday) != ("*", "*", "*") or not all(h.isdigit() for h in hours):
        return None, f"cannot move {spec.cron!r} from {spec.timezone} to UTC"
    shift = int(offset / timedelta(hours=1))
    utc_hours = sorted({(int(h) - shift) % 24 for h in hours})
    return " ".join([minute, ",".join(map(str, utc_hours)), day, month, weekday]), ""


def _interval_fields(seconds: int) -> tuple[str | None, str]:
    minutes, rest = divmod(seconds, 60)
    reason = f"every {format_duration(seconds)} does not divide an hour or a day evenly in whole minutes"
    if rest or minutes == 0:
        return None, reason
    if minutes < 60:
        return (("* * * * *" if minutes == 1 else f"*/{minutes} * * * *"), "") if 60 % minutes == 0 else (None, reason)
    hours, rest = divmod(minutes, 60)
    if rest:
        return None, reason
    if hours < 24 and 24 % hours == 0:
        return ("0 * * * *" if hours == 1 else f"0 */{hours} * * *"), ""
    return ("0 0 * * *", "") if hours == 24 else (None, reason)


def _fixed_offset(zone: str) -> timedelta | None:
    """The zone's UTC offset when it is the same all year (no daylight saving time), else None."""
    tz = ZoneInfo(zone)
    year = datetime.now().year
    offsets = {tz.utcoffset(datetime(year, month, 1)) for month in (1, 4, 7, 10)}
    return offsets.pop() if len(offsets) == 1 else None


def absolute_db_url(db_url: str) -> str:
    """The URL with a relative SQLite path made absolute (cron starts jobs in the home folder)."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database).expanduser()
        if not path.is_absolute():
            return url.set(database=str(path.resolve())).render_as_string(hide_password=False)
    return db_url


def crontab_lines(
    schedule: Schedule,
    db_url: str,
    *,
    schedule_path: Path | None = None,
    log_dir: Path | None = None,
    workdir: Path | None = None,
    python: str = sys.executable,
) -> list[str]:
    """Crontab lines (times in UTC) equivalent to the schedule; jobs cron cannot express become comments.

    Jobs run in `workdir` (default: the current folder, which a relative SQLite path is also read from).
    """
    db_url = absolute_db_url(db_url)
    locks = lock_dir(db_url)
    workdir = (workdir or Path.cwd()).resolve()
    # mkdir first: a lock folder in /tmp does not survive a reboot, and flock needs it; nor can
    # the shell append to a log in a folder that is gone.
    folders = [locks, *([log_dir.resolve()] if log_dir is not None else [])]
    lines = [
        "# Sahel news monitor: crontab equivalent of the schedule (times in UTC).",
        "# cron without CRON_TZ support must run in UTC for these times to hold.",
        f"# Jobs run in {workdir}: relative paths in their arguments are read from there.",
        "CRON_TZ=UTC",
        # A crontab variable, not a command-line argument: `ps` shows arguments to every user.
        f"SAHEL_DB_URL={db_url}",
    ]
    for spec in schedule.jobs.values():
        fields, reason = cron_fields(spec)
        lines.append(f"# {spec.id}: {spec.kind} {spec.when()}, time limit {format_duration(spec.time_limit)}")
        if fields is None:
            lines.append(f"# {spec.id} left out: {reason}")
            continue
        argv = [python, "-m", "sahel_crawler", "schedule", "run-job", spec.id]
        if schedule_path is not None:
            argv += ["--schedule", str(schedule_path.resolve())]
        command = (
            f"cd {shlex.quote(str(workdir))} && mkdir -p {shlex.join(map(str, folders))} && "
            f"flock -n {shlex.quote(str(locks / f'cron-{spec.id}.lock'))} {shlex.join(argv)}"
        )
        if log_dir is not None:
            command += f" >> {shlex.quote(str(log_dir.resolve() / f'{spec.id}.log'))} 2>&1"
        # cron turns an unescaped % into a newline.
        lines.append(f"{fields} {command.replace('%', chr(92) + '%')}")
    return lines
