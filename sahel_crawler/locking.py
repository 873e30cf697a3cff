"""The crawl lock: one crawl per outlet and database at a time.

`sahel crawl` holds one lock per outlet it crawls for its whole run, so a cron run that
overlaps a crawl still going exits at once (status 0, "already running") instead of crawling
twice. Where the locks live (docs/operations.md): on SQLite, `<db file>.locks/crawl-<outlet>.lock`
next to the database file (`fcntl.flock`); on PostgreSQL, session advisory locks. The kernel or
the server releases them when the crawl ends, however it ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager

from storage.locks import LockHeld, database_lock


class CrawlAlreadyRunning(RuntimeError):
    """Another crawl of one of these outlets holds its lock on this database."""

    def __init__(self, outlet: str, held: LockHeld) -> None:
        self.outlet = outlet
        holder = f" ({held.holder})" if held.holder else ""
        super().__init__(f"already running: a crawl of {outlet} holds {held.where}{holder}")


@contextmanager
def acquire_crawl_lock(db_url: str, outlets: Iterable[str]) -> Iterator[list[str]]:
    """Hold the crawl lock of every outlet in `outlets` for the `with` block; yields where they live.

    Never waits: raises CrawlAlreadyRunning, holding nothing, when any of them is taken.
    Raises DatabaseError when a lock cannot be taken at all.
    """
    with ExitStack() as stack:
        where = []
        # Sorted, so two crawls of overlapping outlet sets never each hold a part.
        for outlet in sorted(set(outlets)):
            try:
                where.append(stack.enter_context(database_lock(db_url, f"crawl-{outlet}")))
            except LockHeld as held:
                raise CrawlAlreadyRunning(outlet, held) from None
        yield where
