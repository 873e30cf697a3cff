"""`sahel runs`: the latest crawl runs and their counters."""

from __future__ import annotations

import click

from sahel_crawler.commands.common import db_option, reading_database
from sahel_crawler.commands.tables import print_table
from storage.db import session_factory, writable

COLUMNS = (
    ("run", "right"),
    ("started (UTC)", "left"),
    ("secs", "right"),
    ("status", "left"),
    ("outlets", "left"),
    ("reqs", "right"),
    ("new", "right"),
    ("dups", "right"),
    ("errors", "right"),
)


@click.command()
@db_option
@click.option("--last", "limit", type=click.IntRange(1, 10_000), default=10, show_default=True)
def runs(db_url: str, limit: int) -> None:
    """List the latest crawl runs with the outlets they covered and their counters.

    Example: sahel runs --last 5
    """
    from sahel_crawler.interrupted import try_close_dead_runs
    from storage.repository import recent_runs

    with reading_database(db_url) as engine:
        try_close_dead_runs(writable(engine))
        with session_factory(engine)() as session:
            rows = [
                (
                    run.id,
                    f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                    f"{(run.finished_at - run.started_at).total_seconds() if run.finished_at else 0:.1f}",
                    run.status,
                    run.outlets.replace(",", ", "),
                    run.requests,
                    run.new_articles,
                    run.exact_duplicates + run.near_duplicates,
                    run.errors,
                )
                for run in recent_runs(session, limit)
            ]
    print_table(COLUMNS, rows)
