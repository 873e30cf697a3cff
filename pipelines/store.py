"""Storage stage: write finished items to the database in batches and keep the crawl run's record.

Writes leave the reactor thread: items are buffered and written by one dedicated database thread,
one transaction per batch, so the reactor keeps fetching and dispatching pages meanwhile. An item
counts as scraped (Scrapy's `item_scraped`) only once its batch is committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from sahel_crawler.interrupted import close_dead_runs
from sahel_crawler.items import ArticleItem
from sahel_crawler.processes import this_process
from sahel_crawler.shutdown import StopOnce, running_reactor
from sahel_crawler.signals import page_failed
from sahel_crawler.sources import Outlet, outlet_ids_from_setting, registry_from_settings
from sahel_crawler.text.index import search_text
from storage import repository as repo
from storage.db import error_reason, open_database, session_factory
from storage.search import index_articles

logger = logging.getLogger(__name__)

# Crawl-run counters and the Scrapy stats they come from.
RUN_COUNTERS_FROM_STATS = {
    "requests": "downloader/request_count",
    "pages_fetched": "response_received_count",
    "new_articles": "sahel/new_articles",
    "updated_articles": "sahel/updated_articles",
    "exact_duplicates": "sahel/exact_duplicates",
    "near_duplicates": "sahel/near_duplicates",
    "skipped_seen": "sahel/skipped_seen",
    "not_modified": "sahel/not_modified",
    "no_text": "sahel/no_text",
    "errors": "sahel/errors",
}


def outlet_columns(outlet: Outlet) -> dict[str, Any]:
    """The registry metadata of an outlet as columns of the outlets table."""
    values = {name: getattr(outlet, name) for name in repo.OUTLET_METADATA}
    values["languages"] = ",".join(outlet.languages) or None
    return values


def record_from_item(item: ArticleItem) -> repo.ArticleRecord:
    """The storage record of a finished item."""
    return repo.ArticleRecord(
        url=item.canonical_url or item.url,
        outlet=item.outlet,
        text=item.text,
        fetched_at=item.fetched_at,
        title=item.title,
        author=item.author,
        published_at=item.published_at,
        published_at_source=item.published_at_source,
        description=item.description,
        standfirst=item.standfirst,
        paywalled=item.paywalled,
        text_source=item.text_source,
        language=item.language,
        language_prob=item.language_prob,
        text_hash=item.text_hash,
        discovered_via=item.discovered_via,
        aliases=list(item.aliases),
        duplicate_of_url=item.duplicate_of,
        signature=item.minhash,
        keyword_hits=list(item.keyword_hits),
        lexicon_version=item.lexicon_version,
        place_hits=item.place_hits,
        search_text=item.search_text,
    )


def write_article(session: Session, record: repo.ArticleRecord, run_id: int | None) -> repo.SaveResult:
    """Upsert one article and, when its text is new or changed, its search index entry."""
    result = repo.save_article(session, record, run_id)
    _index([record], [result], session)
    return result


def write_articles(session: Session, records: list[repo.ArticleRecord], run_id: int | None) -> list[repo.SaveResult]:
    """`write_article` for a batch in one transaction (unguarded: see `repository.save_articles`)."""
    results = repo.save_articles(session, records, run_id)
    _index(records, results, session)
    return results


def _index(records: list[repo.ArticleRecord], results: list[repo.SaveResult], session: Session) -> None:
    index_articles(
        session,
        [
            (result.article_id, _search_text(record))
            for record, result in zip(records, results, strict=True)
            if result.outcome != "unchanged"
        ],
    )


def _search_text(record: repo.ArticleRecord) -> str:
    # A crawl's workers made it already.
    if record.search_text is not None:
        return record.search_text
    return search_text(record.title, record.description, record.text)


@dataclass
class _Pending:
    """An item waiting for its batch to be committed."""

    item: ArticleItem
    record: repo.ArticleRecord
    done: Deferred[ArticleItem]


class StoragePipeline:
    """Upsert articles keyed on the canonical URL; open and close the crawl run record;
    record page-level failures reported by the spider.

    In a running crawl, items are written in batches by one database thread: a batch is written
    when it holds SAHEL_STORE_BATCH_SIZE items or its first item has waited
    SAHEL_STORE_BATCH_SECONDS, and whatever is left when the spider closes. `process_item`
    returns an awaitable done once the item's batch is committed, so `item_scraped` still means
    stored. When a batch fails, its
    items are written one by one, each in its own transaction: a failing item is recorded in
    `crawl_errors` (kind "store", stats `sahel/errors` and `sahel/errors/store`) and fails alone.
    CPU milliseconds of the database thread go to stats `sahel/time_ms/store_writes`.
    Outside a running reactor (scripts, unit tests) or with a batch size below 2, every item
    is written at once, on the calling thread.

    Settings:
        SAHEL_DB_URL               the database.
        SAHEL_SOURCES_PATH         the registry (outlet names).
        SAHEL_OUTLETS              the outlets this crawl covers.
        SAHEL_STORE_BATCH_SIZE     most items per write transaction (below 2: one by one).
        SAHEL_STORE_BATCH_SECONDS  longest wait of an item for its batch to fill.
        SAHEL_RUN_ID_FILE          a file to append the run's id to once recorded (the scheduler's).
    """

    def __init__(
        self,
        db_url: str,
        outlets: dict[str, str],
        stats: Any,
        *,
        batch_size: int,
        batch_seconds: float,
        run_id_file: str | None = None,
    ) -> None:
        self.db_url = db_url
        self.run_id_file = run_id_file
        self.outlets = outlets  # id -> name of the outlets this crawl covers
        self.outlet_metadata: dict[str, dict[str, Any]] = {}  # id -> registry metadata columns
        self.stats = stats
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.crawler: Any = None  # set by from_crawler: its spider names the outlets crawled
        self.engine: Engine | None = None
        self.Session: sessionmaker[Session] | None = None
        self.run_id: int | None = None
        self._pool: ThreadPool | None = None  # the one database thread, while batching
        self._stop_pool: Callable[[], None] = lambda: None
        self._buffer: list[_Pending] = []
        self._timer: Any = None
        self._writes: set[Deferred[Any]] = set()  # batches and error records not written yet

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoragePipeline:
        """Build the stage from the crawler's settings and connect it to the crawl's signals."""
        settings = crawler.settings
        registry = registry_from_settings(settings)
        selected = registry.select(outlet_ids_from_setting(settings.get("SAHEL_OUTLETS")))
        pipeline = cls(
            settings["SAHEL_DB_URL"],
            {o.id: o.name for o in selected},
            crawler.stats,
            batch_size=settings.getint("SAHEL_STORE_BATCH_SIZE"),
            batch_seconds=settings.getfloat("SAHEL_STORE_BATCH_SECONDS"),
            run_id_file=settings.get("SAHEL_RUN_ID_FILE") or None,
        )
        pipeline.outlet_metadata = {o.id: outlet_columns(o) for o in selected}
        pipeline.crawler = crawler
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.page_failed, signal=page_failed)
        return pipeline

    # -- lifecycle ------------------------------------------------------------------------------

    def open_spider(self, spider: Any = None) -> None:
        """Connect, record the start of the run and, in a running crawl, start the database thread."""
        # The spider knows the outlets for sure: its arguments (`scrapy crawl news -a outlets=meo`)
        # are read when it is made, after this stage. Scrapy no longer passes it here.
        spider = spider if spider is not None else getattr(self.crawler, "spider", None)
        if spider is not None and getattr(spider, "outlets", None):
            self.outlets = {o.id: o.name for o in spider.outlets.values()}
            self.outlet_metadata = {o.id: outlet_columns(o) for o in spider.outlets.values()}
        self.engine = open_database(self.db_url)
        self.Session = session_factory(self.engine)
        close_dead_runs(self.engine)
        process = this_process()
        with self.Session.begin() as session:
            repo.ensure_outlets(session, self.outlets, self.outlet_metadata)
            self.run_id = repo.start_run(
                session, self.outlets, pid=process.pid, host=process.host, process_start=process.start
            )
        self.stats.set_value("sahel/run_id", self.run_id)
        self._report_run_id()
        reactor = running_reactor()
        if reactor is not None and self.batch_size > 1:
            # One thread: batches commit in the order their items arrived, and never contend
            # with each other for SQLite's write lock.
            self._pool = ThreadPool(minthreads=1, maxthreads=1, name="sahel-store")
            self._pool.start()
            self._stop_pool = StopOnce(self._end_pool)
        logger.info("crawl run %s started for %s", self.run_id, ", ".join(self.outlets))

    def _report_run_id(self) -> None:
        """Tell whoever started the crawl (the scheduler) which run record is its own; after the
        commit, so the id is final."""
        if not self.run_id_file:
            return
        try:
            with open(self.run_id_file, "a", encoding="ascii") as out:
                out.write(f"{self.run_id}\n")
        except OSError as exc:
            logger.warning("cannot write the run id to %s: %s", self.run_id_file, exc)

    async def close_spider(self, spider: Any = None) -> None:
        """Write the last batch and wait for every pending write, then stop the database thread."""
        self._flush()
        while self._writes:
            await maybe_deferred_to_future(next(iter(self._writes)))
        self._stop_pool()

    def spider_closed(self, spider: Any, reason: str) -> None:
        """Finish the run record with the crawl's counters (every batch is written by now)."""
        if self.Session is None or self.run_id is None or self.engine is None:
            return
        stats = self.stats.get_stats()
        counts = {name: stats.get(key, 0) for name, key in RUN_COUNTERS_FROM_STATS.items()}
        status = "finished" if reason == "finished" else "failed"
        try:
            with self.Session.begin() as session:
                repo.finish_run(session, self.run_id, status=status, reason=reason, counts=counts)
        except SQLAlchemyError as exc:  # the CLI sees the run still "running" and exits 1
            logger.error("cannot record the end of crawl run %s: %s", self.run_id, error_reason(exc, with_kind=True))
            return
        finally:
            self.engine.dispose()
        logger.info("crawl run %s %s (%s): %s", self.run_id, status, reason, counts)

    def _end_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()  # waits for the work already queued

    # -- items ----------------------------------------------------------------------------------

    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem | Awaitable[ArticleItem]:
        """Queue the item for the next batch (an awaitable done when it is committed), or write it
        at once when not batching."""
        assert self.Session is not None
        record = record_from_item(item)
        if self._pool is None:
            with self.Session.begin() as session:
                result = write_article(session, record, self.run_id)
            self._count(result)
            return item
        done: Deferred[ArticleItem] = Deferred()
        self._buffer.append(_Pending(item, record, done))
        if len(self._buffer) >= self.batch_size:
            self._flush()
        elif self._timer is None:
            from twisted.internet import reactor

            self._timer = reactor.callLater(self.batch_seconds, self._flush)
        return maybe_deferred_to_future(done)

    def _flush(self) -> None:
        """Hand the buffered items to the database thread as one batch."""
        if self._timer is not None:
            if self._timer.active():
                self._timer.cancel()
            self._timer = None
        batch, self._buffer = self._buffer, []
        if not batch:
            return
        records = [p.record for p in batch]
        self._in_thread(self._write_batch, records).addCallbacks(
            self._batch_written, self._batch_lost, callbackArgs=(batch,), errbackArgs=(batch,)
        )

    def _in_thread(self, func: Callable[..., Any], *args: Any) -> Deferred[Any]:
        """Run `func(*args)` in the database thread; the Deferred is tracked until it fires."""
        from twisted.internet import reactor

        assert self._pool is not None
        result = deferToThreadPool(reactor, self._pool, func, *args)
        self._writes.add(result)

        def forget(value: Any) -> Any:
            self._writes.discard(result)
            return value

        return result.addBoth(forget)

    def _write_batch(self, records: list[repo.ArticleRecord]) -> tuple[list[repo.SaveResult | Exception], float]:
        """In the database thread: the batch in one transaction, or one by one when that fails;
        with the thread's CPU milliseconds spent."""
        start = time.thread_time()
        outcomes = self._write_records(records)
        return outcomes, (time.thread_time() - start) * 1000

    def _write_records(self, records: list[repo.ArticleRecord]) -> list[repo.SaveResult | Exception]:
        assert self.Session is not None
        try:
            with self.Session.begin() as session:
                # No savepoints: a conflict with a concurrent crawl fails the batch, and the
                # one-by-one writes below (guarded) absorb it.
                return write_articles(session, records, self.run_id)
        except IntegrityError as exc:  # most likely a concurrent crawl stored one of them first
            logger.info(
                "a batch of %d articles conflicted (%s); writing them one by one",
                len(records),
                error_reason(exc, with_kind=True),
            )
        except Exception as exc:  # find the failing record(s); the others must still be stored
            logger.warning(
                "a batch of %d articles failed (%s); writing them one by one",
                len(records),
                error_reason(exc, with_kind=True),
            )
        outcomes: list[repo.SaveResult | Exception] = []
        for record in records:
            outcome: repo.SaveResult | Exception
            try:
                with self.Session.begin() as session:
                    outcome = write_article(session, record, self.run_id)
            except Exception as exc:  # also a commit that fails after the write went through
                outcome = exc
                self._write_error(record.url, "store", error_reason(exc, with_kind=True), record.outlet)
            outcomes.append(outcome)  # one outcome per record, whatever failed
        return outcomes

    def _batch_written(self, written: tuple[list[repo.SaveResult | Exception], float], batch: list[_Pending]) -> None:
        """On the reactor: count the outcomes and release the items of a written batch."""
        outcomes, cpu_ms = written
        self.stats.inc_value("sahel/time_ms/store_writes", cpu_ms)
        for pending, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Exception):
                logger.warning("%s failed (store): %s", pending.record.url, error_reason(outcome, with_kind=True))
                self.stats.inc_value("sahel/errors")
                self.stats.inc_value("sahel/errors/store")
                pending.done.errback(Failure(outcome))
            else:
                self._count(outcome)
                pending.done.callback(pending.item)

    def _batch_lost(self, failure: Failure, batch: list[_Pending]) -> None:
        """On the reactor: the database thread itself failed (not one record): fail every item."""
        logger.error("a batch of %d articles was not written: %s", len(batch), failure.getErrorMessage())
        for pending in batch:
            self.stats.inc_value("sahel/errors")
            self.stats.inc_value("sahel/errors/store")
            pending.done.errback(failure)

    def _count(self, result: repo.SaveResult) -> None:
        if result.outcome != "unchanged":
            self.stats.inc_value(f"sahel/{result.outcome}_articles")

    # -- page failures --------------------------------------------------------------------------

    def page_failed(self, url: str, kind: str, reason: str, outlet: str | None = None) -> None:
        """Record a page-level failure (in the database thread while batching)."""
        if self.Session is None:
            return
        if self._pool is None:
            self._write_error(url, kind, reason, outlet, raise_errors=True)
            return
        self._in_thread(self._write_error, url, kind, reason, outlet).addErrback(
            lambda failure: logger.error("cannot record the failure of %s: %s", url, failure.getErrorMessage())
        )

    def _write_error(self, url: str, kind: str, reason: str, outlet: str | None, *, raise_errors: bool = False) -> None:
        assert self.Session is not None
        try:
            with self.Session.begin() as session:
                repo.record_error(session, self.run_id, url=url, kind=kind, reason=reason, outlet=outlet)
        except Exception as exc:
            if raise_errors:
                raise
            logger.error("cannot record the failure of %s: %s", url, exc)
