"""Extraction stage: body text, metadata, language and keywords of the article page, in worker
processes.

Extraction (trafilatura), language detection and the rest of a page's text work are the crawl's
CPU cost. They run in a pool of worker processes (pipelines/page_task.py) so the reactor keeps
fetching while pages are parsed and every core is used; a page that hangs or crashes its worker
is recorded as failed and skipped, the crawl goes on.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from pipelines.challenge import ChallengePages
from pipelines.language import detect_languages_setting
from pipelines.page_task import PageSettings, ProcessedPage, init_worker, process_page, process_teaser
from sahel_crawler.extraction import FieldCaps
from sahel_crawler.items import ArticleItem
from sahel_crawler.lexicon import load_lexicon
from sahel_crawler.places import load_gazetteer
from sahel_crawler.shutdown import StopOnce
from sahel_crawler.signals import report_failure, report_no_text
from sahel_crawler.sources import registry_from_settings
from sahel_crawler.workers import PageTimeout, TaskError, WorkerDied, WorkerPool

logger = logging.getLogger(__name__)


class NoArticleText(DropItem):
    """A page without article text: counted, not stored."""


class BlockedPage(DropItem):
    """A bot-challenge page served in place of the article: recorded as `blocked`, not stored."""


class ExtractionFailed(DropItem):
    """Extraction crashed, raised or ran past the time limit on this page: recorded, skipped."""


def _worker_count(value: Any) -> int:
    if value is None or value == "":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(0, int(value))


class ExtractionPipeline:
    """Fill title, author, date, body, description, language and keyword hits of each item (and the
    text fingerprints and search text later stages use); drop pages with no text.

    The page's text work runs in SAHEL_EXTRACT_WORKERS worker processes; `process_item`
    returns a Deferred, so the reactor keeps fetching meanwhile. A page that raises, crashes its
    worker or runs past SAHEL_EXTRACT_TIMEOUT is dropped and reported (stats `sahel/errors` and
    `sahel/errors/extraction`, signal `page_failed` with kind "extraction", stored in crawl_errors).
    Feed and sitemap titles and dates are fallbacks when the page itself carries none. Keyword
    hits are those of the lexicon loaded when the crawl starts (a lexicon that does not validate
    stops the crawl before any page is fetched). CPU milliseconds spent go to stats
    `sahel/time_ms/extract`, `sahel/time_ms/language`, `sahel/time_ms/dedup_prints` and
    `sahel/time_ms/keywords` and `sahel/time_ms/places`.

    Settings:
        SAHEL_SOURCES_PATH           per-outlet `extraction:` rules.
        SAHEL_EXTRACT_MAX_CHARS      pages are cut to this many characters before parsing.
        SAHEL_MIN_TEXT_CHARS         a shorter body is page chrome (a video caption), not an article.
        SAHEL_MAX_TITLE_CHARS, SAHEL_MAX_AUTHOR_CHARS, SAHEL_MAX_DESCRIPTION_CHARS,
        SAHEL_MAX_TEXT_CHARS         each stored field is cut to this many characters.
        SAHEL_LANGUAGE_PREFIX_CHARS  language detection looks at this many characters of the body.
        SAHEL_DETECT_LANGUAGES       the languages detection chooses among ("all": every profile).
        SAHEL_EXTRACT_WORKERS        worker processes; unset means one per CPU, 0 runs inline
                                     on the reactor thread (no pool, no time limit).
        SAHEL_EXTRACT_TIMEOUT        seconds a page may take in a worker.
        SAHEL_KEYWORDS_ENABLED       False: no keyword flagging during the crawl.
        SAHEL_LEXICON_PATH           lexicon YAML file; None means the bundled lexicon.
        SAHEL_CHALLENGE_MAX_CHARS    a page this short, served identically on
        SAHEL_CHALLENGE_MIN_PAGES    this many article URLs of an outlet, is a bot challenge:
                                     `blocked`, the feed's teaser stored instead when there is one.
        SAHEL_PLACES_ENABLED         False: no place hits during the crawl.
    """

    # What runs per page in a worker: a module-level function, as workers receive it by reference.
    page_function = staticmethod(process_page)

    def __init__(
        self,
        settings: PageSettings,
        stats: Any,
        *,
        signals: Any = None,
        workers: int = 0,
        timeout: float | None,
        challenges: ChallengePages | None = None,
    ) -> None:
        self.settings = settings
        self.stats = stats
        self.signals = signals
        self.workers = workers
        self.timeout = timeout
        self.challenges = challenges  # None: no bot-challenge detection
        self.pool: WorkerPool | None = None
        self._stop_pool: Callable[[], None] = lambda: None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractionPipeline:
        """Build the stage from the crawler's settings."""
        s = crawler.settings
        registry = registry_from_settings(s)
        page_settings = PageSettings(
            rules={o.id: o.extraction for o in registry.outlets.values()},
            min_text_chars=s.getint("SAHEL_MIN_TEXT_CHARS"),
            max_chars=s.getint("SAHEL_EXTRACT_MAX_CHARS"),
            language_prefix_chars=s.getint("SAHEL_LANGUAGE_PREFIX_CHARS"),
            languages=detect_languages_setting(s),
            lexicon=load_lexicon(s.get("SAHEL_LEXICON_PATH") or None) if s.getbool("SAHEL_KEYWORDS_ENABLED") else None,
            gazetteer=load_gazetteer() if s.getbool("SAHEL_PLACES_ENABLED") else None,
            caps=FieldCaps(
                title=s.getint("SAHEL_MAX_TITLE_CHARS"),
                author=s.getint("SAHEL_MAX_AUTHOR_CHARS"),
                description=s.getint("SAHEL_MAX_DESCRIPTION_CHARS"),
                text=s.getint("SAHEL_MAX_TEXT_CHARS"),
            ),
        )
        timeout = s.getfloat("SAHEL_EXTRACT_TIMEOUT")
        return cls(
            page_settings,
            crawler.stats,
            signals=crawler.signals,
            workers=_worker_count(s.get("SAHEL_EXTRACT_WORKERS")),
            timeout=timeout if timeout > 0 else None,
            challenges=ChallengePages(s.getint("SAHEL_CHALLENGE_MAX_CHARS"), s.getint("SAHEL_CHALLENGE_MIN_PAGES")),
        )

    def open_spider(self, spider: Any = None) -> None:
        """Start the worker processes (none in inline mode)."""
        self.stats.set_value("sahel/extract_workers", self.workers)
        if self.workers > 0:
            self.pool = WorkerPool(
                self.workers,
                timeout=self.timeout,
                initializer=init_worker,
                initargs=(self.settings,),
            )
            # The workers ignore SIGINT and SIGTERM, and Python's exit joins them.
            self._stop_pool = StopOnce(self._end_pool)
            logger.info("extraction in %d worker processes, %s s per page", self.workers, self.timeout)

    def close_spider(self, spider: Any = None) -> None:
        """Stop the worker processes."""
        self._stop_pool()

    def _end_pool(self) -> None:
        pool, self.pool = self.pool, None
        if pool is None:
            return
        pool.close()  # waits for the pages in hand (each within the time limit)
        self.stats.set_value("sahel/extract_workers_replaced", pool.replaced)

    async def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        """Process the page in a worker (inline when there is no pool); the reactor runs on meanwhile."""
        repeats = self._challenge_repeats(item)
        if repeats:
            reason = f"bot challenge page: {repeats} article pages served the same short page"
            report_failure(self.stats, self.signals, logger, item.url, "blocked", reason, item.outlet)
            if item.discovered_via != "feed" or not item.hints.get("title"):
                raise BlockedPage(f"{item.url}: {reason}")
            item.text_source = "feed"
        if item.text_source == "feed":  # a teaser: nothing to extract, no worker needed
            return self._apply(item, process_teaser(item.hints, self.settings))
        try:
            if self.pool is None:
                page = self.page_function(item.html, item.url, item.outlet, item.hints.get("title"), self.settings)
            else:
                page = await maybe_deferred_to_future(self._in_worker(item))
        except (PageTimeout, WorkerDied, TaskError) as exc:
            raise self._failed(item, str(exc)) from None
        except Exception as exc:  # the same outcome as a failing worker
            raise self._failed(item, f"{type(exc).__name__}: {exc}") from exc
        return self._apply(item, page)

    def _challenge_repeats(self, item: ArticleItem) -> int:
        """How many article URLs of the outlet served this page's short text (0: none or off)."""
        if self.challenges is None or item.text_source != "page":
            return 0
        return self.challenges.repeats(item.outlet, item.url, item.html)

    def _in_worker(self, item: ArticleItem) -> Deferred[ProcessedPage]:
        from twisted.internet import reactor

        assert self.pool is not None
        result: Deferred[ProcessedPage] = Deferred()

        def finish(future: Future[ProcessedPage]) -> None:
            error = future.exception()
            if error is None:
                result.callback(future.result())
            else:
                result.errback(error)

        future = self.pool.submit(self.page_function, item.html, item.url, item.outlet, item.hints.get("title"))
        future.add_done_callback(lambda f: reactor.callFromThread(finish, f))
        return result

    def _failed(self, item: ArticleItem, reason: str) -> ExtractionFailed:
        """Record the page as failed (stats, crawl_errors) and return the exception that drops it."""
        report_failure(self.stats, self.signals, logger, item.url, "extraction", reason, item.outlet)
        return ExtractionFailed(f"extraction failed on {item.url}: {reason}")

    def _apply(self, item: ArticleItem, page: ProcessedPage) -> ArticleItem:
        self.stats.inc_value("sahel/time_ms/extract", page.extract_ms)
        self.stats.inc_value("sahel/time_ms/language", page.language_ms)
        self.stats.inc_value("sahel/time_ms/dedup_prints", page.prints_ms)
        self.stats.inc_value("sahel/time_ms/keywords", page.keywords_ms)
        self.stats.inc_value("sahel/time_ms/places", page.places_ms)
        extracted = page.extracted
        if extracted is None:
            reason = page.no_text_reason or "no article text found"
            report_no_text(self.stats, self.signals, item.url, reason, item.outlet)
            raise NoArticleText(f"no article text on {item.url}: {reason}")
        item.title = extracted.title
        item.author = extracted.author
        item.text = extracted.text
        item.text_prints = page.prints
        item.search_text = page.search_text
        lexicon = self.settings.lexicon
        if lexicon is not None:
            item.keyword_hits = [dataclasses.asdict(hit) for hit in page.keyword_hits]
            item.lexicon_version = lexicon.version
        if self.settings.gazetteer is not None:
            item.place_hits = [dataclasses.asdict(hit) for hit in page.place_hits]
        item.description = extracted.description
        item.standfirst = extracted.standfirst
        item.paywalled = extracted.paywalled
        item.hints.setdefault("canonical_url", extracted.canonical_url)
        item.hints.setdefault("language_hint", extracted.language_hint)
        if extracted.published_at is not None:
            item.published_at, item.published_at_source = extracted.published_at, extracted.published_at_source
        elif item.hints.get("published_at") is not None:
            item.published_at, item.published_at_source = item.hints["published_at"], item.discovered_via
        if page.language is not None:
            item.language, item.language_prob = page.language
        else:
            item.language = item.hints.get("language_hint") or item.hints.get("language")
        item.html = ""  # the page is no longer needed: keep memory flat on long crawls
        return item
