"""`sahel crawl`: one crawl of the registry's outlets, with its summary."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from typing import Any, TypeVar

import click

from sahel_crawler.commands.common import CommandFailed, db_option, parse_overrides, user_errors
from storage.db import DatabaseError, read_only, session_factory, shared_engine

F = TypeVar("F", bound=Callable[..., Any])

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def log_options(func: F) -> F:
    """`-v` and `--log-level`: the crawl's full log instead of its progress line."""
    func = click.option(
        "--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False),
        help="Log from this level up (on a terminal: instead of warnings and errors only).",
    )(func)  # fmt: skip
    return click.option("-v", "--verbose", is_flag=True, help="The full log (the same as --log-level INFO).")(func)


def chosen_log_level(verbose: bool, log_level: str | None) -> str | None:
    """The level -v / --log-level ask for, or None for the default display."""
    return log_level or ("INFO" if verbose else None)


def print_run_summary(db_url: str, run_id: int | None) -> str | None:
    """Print the crawl's summary; return its run's recorded status (None without a run)."""
    from sahel_crawler.summary import run_summary
    from storage.models import CrawlRun

    with ExitStack() as held:
        with user_errors():
            engine = held.enter_context(shared_engine(db_url))
        with session_factory(read_only(engine))() as session:
            click.echo(run_summary(session, run_id))
            run = session.get(CrawlRun, run_id) if run_id is not None else None
            return run.status if run is not None else None


def run_locked(settings: Any, lock_keys: list[str], spider: str = "news") -> dict[str, Any] | None:
    """The crawl's stats, run under the crawl locks of `lock_keys` (a crawl's are its outlet ids;
    none: no lock); None, with the documented "already running" line, when one is taken.
    Raises CommandFailed when the lock cannot be taken or the crawl could not start."""
    from sahel_crawler.crawl import crawl_started, run_crawl
    from sahel_crawler.locking import CrawlAlreadyRunning, acquire_crawl_lock

    lock = acquire_crawl_lock(settings["SAHEL_DB_URL"], lock_keys) if lock_keys else nullcontext()
    try:
        with lock:
            stats = run_crawl(settings, spider)
    except CrawlAlreadyRunning as exc:
        click.echo(f"sahel: {exc}", err=True)  # documented: exit status 0, "already running"
        return None
    except DatabaseError as exc:  # the lock itself could not be taken
        raise CommandFailed(str(exc)) from None
    if not crawl_started(stats):  # Scrapy failed before the spider opened
        raise CommandFailed("the crawl could not start (see the error in the log)")
    return stats


@click.command()
@click.option("--sources", "sources_path", type=click.Path(), help="Sources registry (YAML).")
@db_option
@click.option("--outlet", "outlets", multiple=True, help="Only this outlet id (repeatable).")
@click.option("--refresh", is_flag=True, help="Refetch stored articles to catch updates (no conditional GET).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting.")
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Share the frontier with other workers through this Redis (redis://HOST:6379/0); see docs/operations.md.",
)
@click.option(
    "--redis-prefix", default="sahel", show_default=True, help="Redis key prefix; the workers of one crawl share it."
)  # fmt: skip
@click.option(
    "--watch", "watch_path", type=click.Path(dir_okay=False), help="Then run these watch rules (docs/alerts.md)."
)
@log_options
def crawl(
    sources_path: str | None,
    db_url: str,
    outlets: tuple[str, ...],
    refresh: bool,
    overrides: tuple[str, ...],
    redis_url: str | None,
    redis_prefix: str,
    watch_path: str | None,
    verbose: bool,
    log_level: str | None,
) -> None:
    """Crawl the outlets of the registry and store their articles.

    On a terminal the crawl shows a progress line, warnings and errors; -v shows its full log.
    With --redis, this process is one worker of a crawl shared with every worker started with
    the same Redis and prefix, on any machine, all writing to one database (docs/operations.md).

    Example: sahel crawl --outlet france24 --db sqlite:///data/sahel.db

    With --watch, the watch rules are evaluated on the new articles once the crawl ends, and
    their alerts delivered (as `sahel alerts run` does).

    One worker of a shared crawl: sahel crawl --redis redis://10.0.0.5:6379/0 --db postgresql+psycopg://sahel@10.0.0.5/sahel
    """
    from sahel_crawler.alerts.run import load_rules
    from sahel_crawler.crawl import checked_crawl_inputs, crawl_settings
    from sahel_crawler.scaleout import redis_settings

    extra: dict[str, object] = dict(parse_overrides(overrides))
    if refresh:
        extra["SAHEL_REFRESH"] = True
    if redis_url:
        with user_errors():
            extra = {**redis_settings(redis_url, key_prefix=redis_prefix), **extra}  # -s still wins
    settings = crawl_settings(db_url=db_url, sources_path=sources_path, outlets=outlets, overrides=extra)
    with ExitStack() as held:  # the crawl's components share the engine held here
        with user_errors():
            selected = held.enter_context(checked_crawl_inputs(settings))
            if watch_path:
                load_rules(watch_path)  # a bad watch file stops the crawl before it starts
        _crawl_checked(settings, [o.id for o in selected], redis_url, chosen_log_level(verbose, log_level), watch_path)


def _crawl_checked(
    settings: Any, outlet_ids: list[str], redis_url: str | None, log_level: str | None, watch_path: str | None
) -> None:
    from sahel_crawler.commands.alerts import run_watch
    from sahel_crawler.crawl import crawl_failure
    from sahel_crawler.scaleout import RedisUnavailable, check_redis
    from sahel_crawler.terminal import setup_crawl_output

    if redis_url:
        try:
            check_redis(redis_url)
        except RedisUnavailable as exc:
            raise CommandFailed(str(exc)) from None
    setup_crawl_output(settings, log_level)
    # Workers of a shared crawl run side by side: the crawl round in Redis coordinates them,
    # so the one-crawl-per-outlet lock is for unshared crawls only.
    stats = run_locked(settings, [] if redis_url else outlet_ids)
    if stats is None:
        return
    status = print_run_summary(settings["SAHEL_DB_URL"], stats.get("sahel/run_id"))
    if watch_path and stats.get("finish_reason") is not None:
        for line in run_watch(settings["SAHEL_DB_URL"], watch_path):
            click.echo(line)
    failure = crawl_failure(stats, status)
    if failure is not None:
        raise CommandFailed(failure)
