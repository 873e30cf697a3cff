"""`sahel schedule ...`: the scheduler daemon, its job list, one job for cron, crontab lines."""

from __future__ import annotations

import logging
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sahel_crawler.commands.common import CommandFailed, db_option, user_errors
from sahel_crawler.commands.tables import print_table

if TYPE_CHECKING:
    from schedules.config import Schedule

_schedule_option = click.option(
    "--schedule",
    "schedule_path",
    type=click.Path(dir_okay=False),
    help="Schedule file (YAML); default: the bundled schedules/default.yaml.",
)


def _load(schedule_path: str | None) -> Schedule:
    from schedules.config import load_schedule

    with user_errors():
        return load_schedule(schedule_path)


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group()
def schedule() -> None:
    """Run crawls and digests on a schedule: a daemon, or cron (docs/operations.md)."""


@schedule.command("run")
@_schedule_option
@db_option
def run(schedule_path: str | None, db_url: str) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C.

    Only one scheduler runs per database: a second one exits with status 1.
    Example: sahel schedule run --schedule my-schedule.yaml
    """
    from schedules.scheduler import run_scheduler
    from storage.locks import LockHeld

    spec = _load(schedule_path)
    _log_to_stderr()
    try:
        with user_errors():
            run_scheduler(db_url, spec)
    except LockHeld as exc:
        holder = f" ({exc.holder})" if exc.holder else ""
        raise CommandFailed(f"a scheduler is already running for this database{holder}; lock: {exc.where}") from None


@schedule.command("list")
@_schedule_option
@db_option
def list_(schedule_path: str | None, db_url: str) -> None:
    """Show the jobs, their next run times (UTC) and how each last ended.

    Example: sahel schedule list
    """
    from schedules.config import format_duration
    from schedules.scheduler import list_jobs

    spec = _load(schedule_path)
    with user_errors():
        rows = list_jobs(db_url, spec)
    columns = (
        ("job", "left"),
        ("kind", "left"),
        ("when", "left"),
        ("next run (UTC)", "left"),
        ("limit", "right"),
        ("last", "left"),
    )
    print_table(
        columns,
        [
            (
                row.spec.id,
                row.spec.kind,
                row.spec.when(),
                f"{row.next_run.astimezone(UTC):%Y-%m-%d %H:%M:%S}" if row.next_run else "-",
                format_duration(row.spec.time_limit),
                f"{row.last.kind} at {row.last.at:%Y-%m-%d %H:%M:%S}" if row.last else "-",
            )
            for row in rows
        ],
    )


@schedule.command("run-job")
@click.argument("job_id")
@_schedule_option
@db_option
def run_job(job_id: str, schedule_path: str | None, db_url: str) -> None:
    """Run one job of the schedule now, as the daemon would: time limit, run records.

    The crontab lines call this. Exit status 1 when the job failed or overran.
    Example: sahel schedule run-job crawl-all
    """
    from schedules.scheduler import run_job_once

    spec = _load(schedule_path)
    if job_id not in spec.jobs:
        raise click.BadParameter(f"no job {job_id!r} in {spec.path}; jobs: {', '.join(spec.jobs)}")
    _log_to_stderr()
    with user_errors():
        outcome = run_job_once(db_url, spec, job_id)
    if not outcome.ok:
        raise CommandFailed(f"job {job_id} {outcome.kind}: {outcome.detail}")


@schedule.command("crontab")
@_schedule_option
@db_option
@click.option(
    "--log-dir", type=click.Path(file_okay=False),
    help="Append each job's output to DIR/<job>.log (else cron mails it); created when missing.",
)  # fmt: skip
@click.option(
    "--workdir", type=click.Path(file_okay=False, exists=True),
    help="Folder the jobs run in, which relative paths in their arguments are read from; default: this one.",
)  # fmt: skip
def crontab(schedule_path: str | None, db_url: str, log_dir: str | None, workdir: str | None) -> None:
    """Print crontab lines equivalent to the schedule (times in UTC, each run under flock).

    Each line runs in the current folder (or --workdir), like the daemon in its own.
    Example: cd /srv/sahel && sahel schedule crontab --log-dir /var/log/sahel | crontab -
    """
    from schedules.crontab import crontab_lines

    spec = _load(schedule_path)
    with user_errors():
        lines = crontab_lines(
            spec,
            db_url,
            schedule_path=Path(schedule_path) if schedule_path else None,
            log_dir=Path(log_dir) if log_dir else None,
            workdir=Path(workdir) if workdir else None,
        )
    click.echo("\n".join(lines))
