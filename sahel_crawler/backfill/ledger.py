"""The ledger of a backfill: which archive months are finished, kept in the database.

A month (per outlet and archive source) is finished once a backfill has read its listing in full
(the month's sitemap, its CDX answer, the WARC file's records of that month) and the run ended
normally with no page of it failing in a way that may pass next time. A finished month is not
read again; an interrupted run leaves its months unfinished, and the next one lists them again
while the incremental middleware skips, before any download, every article already stored.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from sqlalchemy.exc import SQLAlchemyError

from sahel_crawler.incremental import SkippedRequest
from sahel_crawler.signals import listing_incomplete
from storage.backfill import finished_months, mark_months_finished
from storage.db import error_reason, open_database, session_factory

logger = logging.getLogger(__name__)

# Sent by the backfill spider when it has read a month's listing in full. Arguments: outlet,
# source ("sitemaps", "wayback", "warc:FILE NAME"), month (YYYY-MM), listed (article URLs in
# the period), listing (URL or path of the document that listed them).
month_listed = object()

Month = tuple[str, str, str]  # (outlet, source, YYYY-MM)


class MonthFinished(SkippedRequest):
    """A request of an archive month that an earlier backfill finished."""


class BackfillLedger:
    """Skip the requests of finished months; record the months this run finished.

    A request names its months in meta["backfill"] = (source, months); it is dropped when it is
    scheduled (no download) if every one of them is finished, and each such month is counted
    once in `sahel/backfill_months_done_before`.

    Settings: SAHEL_DB_URL. Enabled by the backfill spider only (NotConfigured otherwise).
    """

    def __init__(self, db_url: str, stats: Any) -> None:
        self.db_url = db_url
        self.stats = stats
        self.finished: set[Month] = set()
        self.listed: Counter[Month] = Counter()
        self.listings: defaultdict[Month, set[str]] = defaultdict(set)
        self.incomplete: set[str] = set()
        self.skipped: set[Month] = set()
        self._engine: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> BackfillLedger:
        """Built for the backfill spider's crawls; NotConfigured for any other spider."""
        if getattr(crawler.spidercls, "name", None) != "backfill":
            raise NotConfigured("only a backfill keeps a ledger of months")
        ledger = cls(crawler.settings["SAHEL_DB_URL"], crawler.stats)
        crawler.signals.connect(ledger.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ledger.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ledger.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ledger.month_listed, signal=month_listed)
        crawler.signals.connect(ledger.listing_incomplete, signal=listing_incomplete)
        crawler.signals.connect(ledger.item_error, signal=signals.item_error)
        return ledger

    def spider_opened(self, spider: Any) -> None:
        """Read the finished months of the spider's outlets."""
        self._engine = open_database(self.db_url)
        with session_factory(self._engine)() as session:
            self.finished = finished_months(session, sorted(spider.outlets))

    def request_scheduled(self, request: Request, spider: Any = None) -> None:
        """Drop a request whose months are all finished (raises MonthFinished)."""
        source, months = request.meta.get("backfill") or ("", ())
        outlet = request.meta.get("outlet", "")
        keys = [(outlet, source, month) for month in months]
        if not keys or not all(key in self.finished for key in keys):
            return
        for key in keys:
            if key not in self.skipped:
                self.skipped.add(key)
                self.stats.inc_value("sahel/backfill_months_done_before")
                logger.info("%s: %s of %s finished by an earlier backfill, not read again", outlet, key[2], source)
        raise MonthFinished(request.url)

    def month_listed(self, outlet: str, source: str, month: str, listed: int, listing: str) -> None:
        """Note a month whose listing was read in full (unless an earlier backfill finished it)."""
        if (outlet, source, month) in self.finished:
            return
        self.listed[outlet, source, month] += listed
        self.listings[outlet, source, month].add(listing)

    def listing_incomplete(self, url: str) -> None:
        """A page of the listing `url` failed in a way that may pass: its month stays unfinished."""
        self.incomplete.add(url)

    def item_error(self, item: Any, response: Response | None = None, spider: Any = None, **kwargs: Any) -> None:
        """A page a pipeline stage failed on was not stored: its month stays unfinished."""
        if response is not None and response.meta.get("listed_on"):
            self.incomplete.add(response.meta["listed_on"])

    def months_to_finish(self) -> dict[Month, int]:
        """The months this run listed in full with no page to ask for again -> URLs listed."""
        return {key: count for key, count in self.listed.items() if not self.listings[key] & self.incomplete}

    def spider_closed(self, spider: Any, reason: str) -> None:
        """Record this run's finished months if it ended normally."""
        if self._engine is None:
            return
        done = self.months_to_finish() if reason == "finished" else {}
        try:
            if done:
                with session_factory(self._engine).begin() as session:
                    mark_months_finished(session, done, self.stats.get_value("sahel/run_id"))
        except SQLAlchemyError as exc:
            logger.error("cannot record the finished backfill months: %s", error_reason(exc, with_type=True))
        else:
            self.stats.set_value("sahel/backfill_months_finished", len(done))
            left = len(self.listed) - len(done)
            logger.info("backfill: %d months finished, %d listed but left to finish (%s)", len(done), left, reason)
        finally:
            self._engine.dispose()
            self._engine = None
