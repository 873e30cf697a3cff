"""The crawl frontier: Scrapy's scheduler with pending requests waiting on disk.

A first crawl of a large archive (a sitemap index listing 100,000 articles) schedules every
article request within seconds; in memory each costs about 1.3 KB, so the frontier alone would
grow to over 100 MB. Scrapy can keep pending requests in disk queues, but only with JOBDIR, which
also means pause and resume. Here the queues live in a private temporary folder removed when
the crawl ends: memory stays flat, and nothing is resumed (the database is the crawl's memory
across runs, see `incremental`). A JOBDIR set by the user is used as Scrapy uses it.
"""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

from scrapy.core.scheduler import Scheduler
from scrapy.utils.job import job_dir
from scrapy.utils.misc import build_from_crawler, load_object


class DiskQueueScheduler(Scheduler):
    """Scrapy's default scheduler, with disk queues in a temporary folder when JOBDIR is unset.

    A request that cannot be serialised waits in memory instead (stats
    `scheduler/unserializable`).

    Settings:
        SAHEL_DISK_QUEUE  False keeps pending requests in memory (Scrapy's default without JOBDIR).
    """

    _temporary: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> DiskQueueScheduler:
        """Build the scheduler; create the temporary queue folder when one is needed."""
        settings = crawler.settings
        jobdir = job_dir(settings)
        temporary = None
        if jobdir is None and settings.getbool("SAHEL_DISK_QUEUE", True):
            temporary = jobdir = tempfile.mkdtemp(prefix="sahel-frontier-")
        scheduler = cls(
            dupefilter=build_from_crawler(load_object(settings["DUPEFILTER_CLASS"]), crawler),
            jobdir=jobdir,
            dqclass=load_object(settings["SCHEDULER_DISK_QUEUE"]),
            mqclass=load_object(settings["SCHEDULER_MEMORY_QUEUE"]),
            logunser=settings.getbool("SCHEDULER_DEBUG"),
            stats=crawler.stats,
            pqclass=load_object(settings["SCHEDULER_PRIORITY_QUEUE"]),
            crawler=crawler,
        )
        scheduler._temporary = temporary
        return scheduler

    def close(self, reason: str) -> Any:
        """Close the queues and the duplicate filter; remove the temporary folder."""
        try:
            return super().close(reason)
        finally:
            if self._temporary is not None:
                shutil.rmtree(self._temporary, ignore_errors=True)
