"""The crawl frontier: Scrapy's scheduler with pending requests waiting on disk.

A first crawl of a large archive (a sitemap index listing every article) schedules every article
request within seconds, and in memory the frontier alone would grow with the archive. Scrapy can
keep pending requests in disk queues, but only with JOBDIR, which also means pause and resume. Here
the queues live in a private temporary folder removed when the crawl ends: memory stays flat, and
nothing is resumed (the database is the crawl's memory across runs, see `incremental`). A JOBDIR set
by the user is used as Scrapy uses it.
"""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

from scrapy.core.scheduler import Scheduler


class DiskQueueScheduler(Scheduler):
    """Scrapy's default scheduler, with disk queues in a temporary folder when JOBDIR is unset.

    A request that cannot be serialised waits in memory instead (stats
    `scheduler/unserializable`).

    Settings:
        SAHEL_DISK_QUEUE  False keeps pending requests in memory (Scrapy's default without JOBDIR).
    """

    def __init__(self, *args: Any, jobdir: str | None = None, crawler: Any = None, **kwargs: Any) -> None:
        self._temporary: str | None = None
        if jobdir is None and crawler is not None and crawler.settings.getbool("SAHEL_DISK_QUEUE"):
            self._temporary = jobdir = tempfile.mkdtemp(prefix="sahel-frontier-")
        super().__init__(*args, jobdir=jobdir, crawler=crawler, **kwargs)

    def close(self, reason: str) -> Any:
        """Close the queues and the duplicate filter; remove the temporary folder."""
        try:
            return super().close(reason)
        finally:
            if self._temporary is not None:
                shutil.rmtree(self._temporary, ignore_errors=True)
