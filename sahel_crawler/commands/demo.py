"""`sahel demo`: the offline demo crawl, its summary, yesterday's digest and where to go next."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from sahel_crawler import settings as project_settings
from sahel_crawler.commands.common import CommandFailed, user_errors
from sahel_crawler.commands.crawl import chosen_log_level, log_options, print_run_summary


def next_steps(db_path: str) -> list[str]:
    """The demo's closing lines: how to reach its database with the other commands."""
    db_url = f"sqlite:///{db_path}"
    lines = [f"database: {db_path}"]
    venv_bin = Path(sys.prefix) / "bin"
    if sys.prefix != sys.base_prefix and (venv_bin / "sahel").exists():
        where = os.path.relpath(venv_bin)
        where = str(venv_bin) if where.startswith("..") else where
        lines.append(f"explore it after `. {where}/activate` (or run {where}/sahel instead of sahel):")
    else:
        lines.append("explore it:")
    lines += [
        f"  sahel runs --db {db_url}",
        f"  sahel health --db {db_url}",
        f'  sahel search "Mali" --db {db_url}',
        f"  sahel export --db {db_url} --format jsonl",
        f"  sahel digest --db {db_url} --format html --out {Path(db_path).with_name('digest.html')}"
        "   (with the map of places)",
        f"  sahel export --db {db_url} --format geojson",
    ]
    return lines


@click.command()
@click.option(
    "--db-path", type=click.Path(dir_okay=False), default="data/demo.db", show_default=True,
    help="SQLite file to create (replaced if present; missing folders are created).",
)  # fmt: skip
@log_options
def demo(db_path: str, verbose: bool, log_level: str | None) -> None:
    """Crawl the bundled offline replay of two outlets into a fresh SQLite file, summarise it
    and print yesterday's keyword digest.

    Needs no network: the replay is served on 127.0.0.1 and 127.0.0.2.
    Example: sahel demo
    """
    from sahel_crawler.crawl import crawl_started
    from sahel_crawler.demo import run_demo
    from sahel_crawler.digest import DigestRequest, run_digest, yesterday
    from storage.db import open_database

    with user_errors():
        stats = run_demo(Path(db_path), chosen_log_level(verbose, log_level))
    if not crawl_started(stats):
        raise CommandFailed("the demo crawl could not start (see the error in the log)")
    db_url = f"sqlite:///{db_path}"
    print_run_summary(db_url, stats.get("sahel/run_id"))
    with user_errors():
        engine = open_database(db_url)
        try:
            period = yesterday(project_settings.SAHEL_DIGEST_TZ)
            request = DigestRequest(period=period, lexicon_path=project_settings.SAHEL_LEXICON_PATH)
            outcome = run_digest(engine, request)
        finally:
            engine.dispose()
    click.echo("\n" + (outcome.written or ""))
    click.echo("\n".join(next_steps(db_path)))
