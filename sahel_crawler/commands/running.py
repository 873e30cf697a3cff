"""Run one recorded crawl (`sahel crawl`, `sahel backfill`) and turn how it ended into the
documented exit statuses and one-line reasons."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import click
from scrapy.settings import Settings

from sahel_crawler.commands.common import Failure, user_errors
from storage.db import DatabaseError, open_database, read_only, session_factory


def run_and_report(settings: Settings, lock_keys: list[str], *, spider: str = "news", shared: bool = False) -> None:
    """Run the crawl under the crawl locks of `lock_keys` (a crawl's are its outlet ids; none for a
    `shared` crawl), print its summary, and raise Failure (exit 1) when it could not start, finish
    or be recorded."""
    from sahel_crawler.crawl import run_crawl
    from sahel_crawler.locking import CrawlAlreadyRunning, acquire_crawl_lock

    lock: AbstractContextManager[object] = (
        nullcontext() if shared else acquire_crawl_lock(settings["SAHEL_DB_URL"], lock_keys)
    )
    try:
        with lock:
            stats = run_crawl(settings, spider)
    except CrawlAlreadyRunning as exc:
        click.echo(f"sahel: {exc}", err=True)  # documented: exit status 0, "already running"
        return
    except DatabaseError as exc:  # the lock itself could not be taken
        raise Failure(str(exc)) from None
    reason = stats.get("finish_reason")
    if reason is None and "start_time" not in stats:  # Scrapy failed before the spider opened
        raise Failure("the crawl could not start (see the error in the log)")
    status = print_summary(settings["SAHEL_DB_URL"], stats.get("sahel/run_id"))
    if reason is None:  # stopped outright (a second Ctrl-C) before the spider could close
        raise Failure("the crawl was stopped before it could finish (see the log above)")
    if status == "running":  # the database refused the run's last write (disk full, read-only)
        raise Failure("the crawl's run could not be recorded as ended: the database was not writable (see the log)")
    if reason == "shutdown":
        raise Failure("the crawl was shut down before it finished (see the log above)")
    if reason == "start_error":
        raise Failure("the crawl stopped early: listing its start URLs failed (see the log above)")


def print_summary(db_url: str, run_id: int | None) -> str | None:
    """Print the crawl's summary; return its run's recorded status (None without a run)."""
    from sahel_crawler.summary import run_summary
    from storage.models import CrawlRun

    with user_errors():
        engine = open_database(db_url)
    with session_factory(read_only(engine))() as session:
        click.echo(run_summary(session, run_id))
        run = session.get(CrawlRun, run_id) if run_id is not None else None
        status = run.status if run is not None else None
    engine.dispose()
    return status
