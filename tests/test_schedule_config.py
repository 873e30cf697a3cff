"""The schedule file: the bundled default, validation messages, and the crontab rendering."""

from __future__ import annotations

from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger

from schedules.config import ScheduleError, load_schedule
from schedules.crontab import crontab_lines
from schedules.jobs import job_command


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
    argv = job_command(load_schedule(path).jobs["meo"], "sqlite:///x.db", python="/py")
    assert argv[:6] == ["/py", "-m", "sahel_crawler", "crawl", "--db", "sqlite:///x.db"]
    assert argv[argv.index("--sources") + 1] == str(tmp_path / "src.yaml"), "relative to the schedule file"
    assert argv[argv.index("--outlet") + 1] == "meo"
    assert "SAHEL_ALLOWED_PRIVATE_HOSTS=127.0.0.1,127.0.0.2" in argv


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
        assert "flock -n " in command
        assert f"{tmp_path}/sahel.db.locks/" in command
        assert " schedule run-job " in command


def test_crontab_moves_fixed_offset_zones_to_utc_and_explains_what_cron_cannot_express(tmp_path: Path) -> None:
    path = tmp_path / "schedule.yaml"
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
    assert all("p\\%40ss" in command for command in entries.values()), "cron reads a bare % as a newline"
    assert all(f"--schedule {path}" in command for command in entries.values())
