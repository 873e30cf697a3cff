"""The crawl frontier: Scrapy's scheduler with pending requests waiting on disk.

A first crawl of a large archive (a sitemap index listing every article) schedules every article
request within seconds, and in memory the frontier alone would grow with the archive. Scrapy can
keep pending requests in disk queues, but only with JOBDIR, which also means pause and resume. Here
the queues live in a private temporary folder removed when the crawl ends: memory stays flat, and
nothing is resumed (the database is the crawl's memory across runs, see `incremental`). A JOBDIR set
by the user is used as Scrapy uses it.

A crawl killed outright (kill -9, a second Ctrl-C) cannot remove its folder: each folder names
its owner process, and the next crawl on the machine removes the folders of owners that are gone.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from scrapy.core.scheduler import Scheduler

from sahel_crawler.processes import ProcessIdentity, is_gone, this_process

logger = logging.getLogger(__name__)

FOLDER_PREFIX = "sahel-frontier-"
OWNER_FILE = "owner.json"


class DiskQueueScheduler(Scheduler):
    """Scrapy's default scheduler, with disk queues in a temporary folder when JOBDIR is unset.

    A request that cannot be serialised waits in memory instead (stats
    `scheduler/unserializable`). Before it makes its folder, it removes those of dead crawls.

    Settings:
        SAHEL_DISK_QUEUE  False keeps pending requests in memory (Scrapy's default without JOBDIR).
    """

    def __init__(self, *args: Any, jobdir: str | None = None, crawler: Any = None, **kwargs: Any) -> None:
        self._temporary: str | None = None
        if jobdir is None and crawler is not None and crawler.settings.getbool("SAHEL_DISK_QUEUE"):
            remove_dead_frontiers()
            self._temporary = jobdir = make_frontier_folder()
        super().__init__(*args, jobdir=jobdir, crawler=crawler, **kwargs)

    def close(self, reason: str) -> Any:
        """Close the queues and the duplicate filter; remove the temporary folder."""
        try:
            return super().close(reason)
        finally:
            if self._temporary is not None:
                shutil.rmtree(self._temporary, ignore_errors=True)


def make_frontier_folder() -> str:
    """A new temporary frontier folder, with a note naming this process as its owner."""
    folder = tempfile.mkdtemp(prefix=FOLDER_PREFIX)
    owner = dataclasses.asdict(this_process())
    (Path(folder) / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
    return folder


def remove_dead_frontiers(parent: str | None = None) -> list[Path]:
    """Remove the frontier folders in `parent` (default: the temporary folder) whose owner process
    is gone; return them. Folders of living crawls, of other hosts or without a readable owner
    note (one being made this instant) are left alone."""
    removed = []
    for folder in sorted(Path(parent or tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*")):
        try:
            owner = ProcessIdentity(**json.loads((folder / OWNER_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
        if is_gone(owner):
            shutil.rmtree(folder, ignore_errors=True)
            logger.info("removed the frontier folder %s of a crawl that ended without it (pid %s)", folder, owner.pid)
            removed.append(folder)
    return removed
