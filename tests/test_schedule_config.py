"""The schedule file: the bundled default, validation messages, and the crontab rendering."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger

from schedules.config import ScheduleError, load_schedule
from schedules.crontab import crontab_lines
from schedules.jobs import job_command, job_environment


def test_default_schedule_crawls_every_outlet_every_30_minutes_and_digests_at_6_in_bamako() -> None:
    schedule = load_schedule()
    kinds = {spec.kind: spec for spec in schedule.jobs.values()}
    assert kinds["crawl"].every == 30 * 60
    assert kinds["crawl"].outlets == ()
    assert (kinds["digest"].cron, kinds["digest"].timezone) == ("0 6 * * *", "Africa/Bamako")
    assert schedule.misfire_grace >= 60, "a grace of seconds silently skips late runs"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("jobs: [", "malformed YAML"),
        ("jobs: {}\n", "non-empty 'jobs:'"),
        ("jobs:\n  a:\n    kind: crawl\n", "exactly one of the keys 'every' and 'cron'"),
        ("jobs:\n  a:\n    kind: crawl\n    every: 5m\n    cron: '* * * * *'\n", "exactly one"),
        ("jobs:\n  a:\n    kind: mow\n    every: 5m\n", "key 'kind'"),
        ("jobs:\n  a:\n    kind: crawl\n    every: soon\n", "key 'every'"),
        ("jobs:\n  a:\n    kind: crawl\n    cron: '61 * * * *'\n", "key 'cron'"),
        ("jobs:\n  a:\n    kind: crawl\n    cron: '0 6 * *'\n", "5 fields"),
        ("jobs:\n  a:\n    kind: digest\n    cron: '0 6 * * *'\n    timezone: Mars/Olympus\n", "unknown time zone"),
        ("jobs:\n  a:\n    kind: crawl\n    every: 5m\n    colour: red\n", "'colour'"),
        ("jobs:\n  a:\n    kind: digest\n    every: 5m\n    outlets: [meo]\n", "only for kind crawl"),
        ("jobs:\n  a:\n    kind: command\n    every: 5m\n", "key 'command'"),
        ("jobs:\n  Bad Id:\n    kind: crawl\n    every: 5m\n", "job id"),
        # The first ended in an OverflowError traceback; a cron that never fires was accepted.
        ("jobs:\n  a:\n    kind: crawl\n    every: 99999999999999d\n", "key 'every': the duration must be at most"),
        ("jobs:\n  a:\n    kind: crawl\n    every: 1h\n    time_limit: 9999999d\n", "key 'time_limit'"),
        ("jobs:\n  a:\n    kind: crawl\n    cron: '0 6 31 2 *'\n", "'0 6 31 2 *' never runs"),
        ("jobs:\n  a:\n    kind: crawl\n    cron: '0 6 * * 8'\n", "weekday '8' is not 0-7"),
        ("jobs:\n  a:\n    kind: crawl\n    cron: '0 6 * * 5-1'\n", "runs backwards"),
    ],
)
def test_invalid_schedule_names_file_job_and_key(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(content)
    with pytest.raises(ScheduleError) as info:
        load_schedule(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_crawl_job_command_runs_sahel_crawl_in_its_own_process(tmp_path: Path) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(
        "jobs:\n  meo:\n    kind: crawl\n    every: 1h\n    outlets: [meo]\n    sources: src.yaml\n"
        "    settings: {DOWNLOAD_DELAY: 0, SAHEL_ALLOWED_PRIVATE_HOSTS: [127.0.0.1, 127.0.0.2]}\n"
    )
    argv = job_command(load_schedule(path).jobs["meo"], python="/py")
    assert argv[:4] == ["/py", "-m", "sahel_crawler", "crawl"]
    assert argv[argv.index("--sources") + 1] == str(tmp_path / "src.yaml"), "relative to the schedule file"
    assert argv[argv.index("--outlet") + 1] == "meo"
    assert "SAHEL_ALLOWED_PRIVATE_HOSTS=127.0.0.1,127.0.0.2" in argv


def test_the_database_url_goes_to_a_job_in_its_environment_not_on_its_command_line(tmp_path: Path) -> None:
    # Any local user can read a command line (`ps`), and with it the database password.
    path = tmp_path / "schedule.yaml"
    path.write_text("jobs:\n  c:\n    kind: crawl\n    every: 1h\n  d:\n    kind: digest\n    every: 1d\n")
    url = "postgresql+psycopg://sahel:s3cret@db/sahel"
    for spec in load_schedule(path).jobs.values():
        assert not any("s3cret" in arg or arg == "--db" for arg in job_command(spec)), spec.id
    env = job_environment(url, tmp_path / "ids")
    assert (env["SAHEL_DB_URL"], env["SAHEL_RUN_ID_FILE"]) == (url, str(tmp_path / "ids"))
    # The child reads it as the default of --db (sahel_crawler/settings.py).
    probe = "from sahel_crawler import settings; print(settings.SAHEL_DB_URL, settings.SAHEL_RUN_ID_FILE)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [url, str(tmp_path / "ids")]


def _fire_days(tmp_path: Path, cron: str, count: int = 12) -> list[date]:
    """The first `count` days from Monday 2026-03-02 on which the scheduler runs a 06:00 job."""
    path = tmp_path / "schedule.yaml"
    path.write_text(f"jobs:\n  a:\n    kind: digest\n    cron: '{cron}'\n")
    trigger = load_schedule(path).jobs["a"].trigger()
    now, days = datetime(2026, 3, 2, tzinfo=UTC), []
    while len(days) < count:
        now = trigger.get_next_fire_time(None, now)
        assert now is not None and (now.hour, now.minute) == (6, 0)
        days.append(now.date())
        now += timedelta(minutes=1)
    return days


def _cron_runs_on(day: date, days_of_month: set[int] | None, weekdays: set[int] | None) -> bool:
    """Standard cron (crontab(5)): weekday 0 is Sunday; with both day fields restricted, either matches."""
    dom = days_of_month is None or day.day in days_of_month
    dow = weekdays is None or day.isoweekday() % 7 in weekdays
    return (dom or dow) if days_of_month is not None and weekdays is not None else (dom and dow)


@pytest.mark.parametrize(
    ("cron", "days_of_month", "weekdays"),
    [
        ("0 6 * * 1", None, {1}),
        ("0 6 * * 0", None, {0}),
        ("0 6 * * 7", None, {0}),
        ("0 6 * * SUN", None, {0}),
        ("0 6 * * 1-5", None, {1, 2, 3, 4, 5}),
        ("0 6 * * mon-fri", None, {1, 2, 3, 4, 5}),
        ("0 6 * * 5-7", None, {5, 6, 0}),
        ("0 6 * * */2", None, {0, 2, 4, 6}),
        ("0 6 * * 1-5/2", None, {1, 3, 5}),
        ("0 6 * * 0,3,6", None, {0, 3, 6}),
        ("0 6 1,15 * *", {1, 15}, None),
        ("0 6 1,15 * 3", {1, 15}, {3}),
        ("0 6 13 * fri", {13}, {5}),
    ],
)
def test_cron_jobs_run_on_the_days_standard_cron_runs_them(
    tmp_path: Path, cron: str, days_of_month: set[int] | None, weekdays: set[int] | None
) -> None:
    # The crontab lines copy these fields to cron: the daemon must read them as cron does.
    start = date(2026, 3, 2)
    expected = [d for d in (start + timedelta(n) for n in range(800)) if _cron_runs_on(d, days_of_month, weekdays)]
    assert _fire_days(tmp_path, cron) == expected[:12]


def _crontab_entries(lines: list[str]) -> list[tuple[str, str]]:
    """(5 cron fields, command) of every entry; comments and NAME=value lines skipped."""
    entries = []
    for line in lines:
        if not line.strip() or line.startswith("#") or "=" in line.split()[0]:
            continue
        parts = line.split(None, 5)
        assert len(parts) == 6, f"not 5 fields and a command: {line!r}"
        CronTrigger.from_crontab(" ".join(parts[:5]))  # raises on invalid fields
        entries.append((" ".join(parts[:5]), parts[5]))
    return entries


def test_crontab_of_the_default_schedule_is_valid_and_uses_flock(tmp_path: Path) -> None:
    lines = crontab_lines(load_schedule(), f"sqlite:///{tmp_path}/sahel.db")
    entries = _crontab_entries(lines)
    assert [fields for fields, _ in entries] == ["*/30 * * * *", "0 6 * * *"]  # Bamako is UTC+0 all year
    for _, command in entries:
        assert command.startswith(f"cd {Path.cwd()} && "), "relative paths in args are read from here"
        assert "flock -n " in command
        assert f"{tmp_path}/sahel.db.locks/" in command
        assert " schedule run-job " in command


def test_crontab_moves_fixed_offset_zones_to_utc_and_explains_what_cron_cannot_express(tmp_path: Path) -> None:
    path = tmp_path / "50%.yaml"
    path.write_text(
        "jobs:\n"
        "  dhaka:\n    kind: digest\n    cron: '30 7 * * *'\n    timezone: Asia/Dhaka\n"  # UTC+6, no DST
        "  paris:\n    kind: digest\n    cron: '0 6 * * *'\n    timezone: Europe/Paris\n"  # DST
        "  odd:\n    kind: crawl\n    every: 45m\n"
        "  hourly:\n    kind: crawl\n    every: 2h\n"
    )
    lines = crontab_lines(load_schedule(path), "postgresql+psycopg://u:p%40ss@db/sahel", schedule_path=path)
    entries = dict(_crontab_entries(lines))
    assert set(entries) == {"30 1 * * *", "0 */2 * * *"}
    assert any(line.startswith("# paris left out") for line in lines)
    assert any(line.startswith("# odd left out") for line in lines)
    escaped = str(path).replace("%", "\\%")
    assert all(f"--schedule {escaped}" in command for command in entries.values()), "cron reads % as a newline"
    # The URL is a crontab variable, as written (% is special in commands only), never an argument.
    assert "SAHEL_DB_URL=postgresql+psycopg://u:p%40ss@db/sahel" in lines
    assert not any("p%40ss" in command or "p\\%40ss" in command for command in entries.values())


def _crontab_variables(lines: list[str]) -> dict[str, str]:
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#") and "=" in line.split()[0])


def test_a_crontab_line_runs_in_the_project_folder_and_creates_its_log_folder(tmp_path: Path) -> None:
    # cron starts jobs in the home folder: a relative path such as the bundled digest's
    # data/digest.html must still land in the project folder, and a missing log folder must not
    # make every run fail.
    project, home, db = tmp_path / "project", tmp_path / "home", tmp_path / "sahel.db"
    project.mkdir()
    home.mkdir()
    path = project / "schedule.yaml"
    path.write_text(
        "jobs:\n  rel:\n    kind: command\n    every: 1h\n"
        f"    command: [{sys.executable}, -c, \"import pathlib; pathlib.Path('data').mkdir(); "
        "pathlib.Path('data/out.txt').write_text('ran')\"]\n"
    )
    log_dir = tmp_path / "logs" / "sahel"
    lines = crontab_lines(load_schedule(path), f"sqlite:///{db}", schedule_path=path, log_dir=log_dir, workdir=project)
    [(_, command)] = _crontab_entries(lines)
    env = {k: v for k, v in os.environ.items() if k != "SAHEL_DB_URL"} | _crontab_variables(lines)
    # What cron does: /bin/sh -c COMMAND in the home folder, "\\%" read as "%".
    subprocess.run(["sh", "-c", command.replace("\\%", "%")], cwd=home, env=env, timeout=120, check=True)
    assert (project / "data" / "out.txt").read_text() == "ran"
    assert "job rel: finished" in (log_dir / "rel.log").read_text()
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT job_id, kind FROM schedule_events").fetchall() == [("rel", "finished")]
