"""Runs whose crawl process is gone (kill -9, a second Ctrl-C, a crash of the machine's power)
stay `running` in the database: they are recorded as `interrupted` by whoever looks next."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from sahel_crawler.processes import ProcessIdentity, is_gone
from storage import repository as repo
from storage.db import error_reason, read_only, session_factory
from storage.models import CrawlRun

logger = logging.getLogger(__name__)


def _process_gone(run: CrawlRun) -> bool:
    if run.pid is None or run.host is None:  # recorded before runs named their process
        return False
    return bool(is_gone(ProcessIdentity(run.pid, run.host, run.process_start or "")))


def close_dead_runs(engine: Engine) -> list[int]:
    """Record as `interrupted` the running runs of this host whose process is gone; return their ids.

    One read (taking no write lock) when every run is alive or finished; a short write only when
    one is found dead. Runs of other hosts are left to those hosts.
    """
    with session_factory(read_only(engine))() as session:
        dead = [run.id for run in repo.running_runs(session) if _process_gone(run)]
    if dead:
        with session_factory(engine).begin() as session:
            repo.mark_interrupted(session, dead)
        logger.warning("crawl runs %s ended without closing their run (process gone): interrupted", dead)
    return dead


def try_close_dead_runs(engine: Engine) -> list[int]:
    """`close_dead_runs` for readers: a database they may not write to is left as it is."""
    try:
        return close_dead_runs(engine)
    except SQLAlchemyError as exc:
        logger.info("runs of gone processes not recorded as interrupted: %s", error_reason(exc))
        return []
