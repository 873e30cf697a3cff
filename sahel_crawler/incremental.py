"""Incremental crawling: never fetch a stored article again, fetch unchanged feeds and sitemaps
with conditional GET.

The database is the memory across runs and processes (Scrapy's dupefilter and JOBDIR are per
crawl): an article request is checked against the stored article URLs and aliases when it is
scheduled, and feeds and sitemaps are requested with the ETag / Last-Modified of their last
successful fetch.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from sqlalchemy.exc import SQLAlchemyError

from sahel_crawler.signals import listing_incomplete
from sahel_crawler.sources import registry_from_settings
from sahel_crawler.text.urls import UrlRules, canonicalize_url
from storage.db import acquire_engine, release_engine, session_factory
from storage.lookups import Lookups
from storage.validators import put_validators

logger = logging.getLogger(__name__)

_CONDITIONAL_PAGE_TYPES = frozenset({"feed", "sitemap"})
_CONDITIONAL_HEADERS = (b"If-None-Match", b"If-Modified-Since")


class SkippedRequest(IgnoreRequest):
    """A request the incremental crawl decided not to need: expected, never an error."""


class AlreadyStored(SkippedRequest):
    """An article request whose canonical URL is already stored (as an article or an alias)."""


class NotModified(SkippedRequest):
    """A feed or sitemap that answered 304: nothing new since the last crawl."""


class IncrementalMiddleware:
    """Skip stored articles before they are scheduled; conditional GET for feeds and sitemaps.

    Article requests (meta["page_type"] == "article") whose canonical URL is stored are dropped when
    scheduled (Scrapy's `request_scheduled` signal: no download, no errback), counted once per
    URL in `sahel/skipped_seen`. The check is one indexed query against the database at the
    moment the request is scheduled, so it sees what any other crawl process has committed;
    nothing is preloaded, so memory and start-up time do not grow with the archive. The query
    reads without taking SQLite's write lock, so it never waits for the storage stage's batches.

    Feed and sitemap requests (meta["page_type"] in feed, sitemap) carry If-None-Match /
    If-Modified-Since from `http_validators`; a 304 is counted in `sahel/not_modified` and ends
    the request with `NotModified`. Validators of 200 responses are written when the crawl
    finishes normally: a crawl cut short must not make the next one skip a feed whose articles
    it never fetched. For the same reason a listing (and the sitemap index above it) with a page
    that failed in a way that may pass (signal `listing_incomplete`: a time-out, a 5xx) gets no
    validators: the next crawl reads it again and asks for that page again; so does one with a
    page a pipeline stage failed on (signal `item_error`: a database write refused). A worker of
    a shared crawl (`--redis`) keeps no validators at all.

    Settings:
        SAHEL_INCREMENTAL_ENABLED  False disables the middleware (NotConfigured).
        SAHEL_REFRESH              True refetches stored articles and sends no conditional
                                   headers (validators are still remembered).
        SAHEL_DB_URL               the database holding articles, aliases and validators.
        SAHEL_SOURCES_PATH         per-outlet URL rules, to canonicalise redirect targets.
    """

    def __init__(
        self, db_url: str, stats: Any, *, refresh: bool, rules: dict[str, UrlRules], keep_validators: bool = True
    ) -> None:
        self.db_url = db_url
        self.stats = stats
        self.refresh = refresh
        self.keep_validators = keep_validators
        self.rules = rules
        self.Session: Any = None
        self.lookups: Lookups | None = None
        self._engine: Any = None
        # hash() of URLs not stored when first scheduled: repeats go to the dupefilter. Integers,
        # not the URLs, as a first crawl of a large archive passes 100k of them (a collision only
        # means one stored article fetched again, which storage absorbs).
        self._passed: set[int] = set()
        self._skipped: set[str] = set()
        self._validators: dict[str, tuple[str | None, str | None]] = {}
        self._listed_on: dict[str, str] = {}  # a child sitemap's URL -> the index that listed it
        self._incomplete: set[str] = set()  # listings whose validators must not be kept

    @classmethod
    def from_crawler(cls, crawler: Any) -> IncrementalMiddleware:
        """Build the middleware from the crawler's settings and connect it to the crawl's signals."""
        settings = crawler.settings
        if not settings.getbool("SAHEL_INCREMENTAL_ENABLED"):
            raise NotConfigured("SAHEL_INCREMENTAL_ENABLED is off")
        registry = registry_from_settings(settings)
        rules = {o.id: o.urls for o in registry.outlets.values()}
        # A worker of a shared crawl (--redis) cannot know that the articles a feed listed were all
        # stored: another worker may have died with them, or Redis lost its queue. Its feeds and
        # sitemaps are read in full every round; stored articles are still never fetched again.
        shared = bool(settings.get("SAHEL_REDIS_WORKERS_KEY"))
        middleware = cls(
            settings["SAHEL_DB_URL"],
            crawler.stats,
            refresh=settings.getbool("SAHEL_REFRESH"),
            rules=rules,
            keep_validators=not shared,
        )
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(middleware.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(middleware.listing_incomplete, signal=listing_incomplete)
        crawler.signals.connect(middleware.item_error, signal=signals.item_error)
        return middleware

    def spider_opened(self, spider: Any = None) -> None:
        """Connect to the database."""
        self._engine = acquire_engine(self.db_url)
        self.Session = session_factory(self._engine)
        # Lookups never take SQLite's write lock, so they do not wait for the storage stage's batches.
        self.lookups = Lookups(self._engine)

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        """Remember the validators of this crawl's feeds and sitemaps if it finished normally."""
        if self.Session is None:
            return
        try:
            if reason == "finished" and self.keep_validators and (self._validators or self._incomplete):
                self._keep_validators()
        finally:
            if self.lookups is not None:
                self.lookups.close()
            self.Session = self.lookups = self._engine = None
            release_engine(self.db_url)

    def _keep_validators(self) -> None:
        with self.Session.begin() as session:
            for url, (etag, last_modified) in self._validators.items():
                if url not in self._incomplete:
                    put_validators(session, url, etag, last_modified)
            for url in self._incomplete:
                put_validators(session, url, None, None)  # forget what an earlier crawl kept

    def listing_incomplete(self, url: str) -> None:
        """Keep no validators for the listing `url`, nor for the sitemap indexes above it."""
        while url and url not in self._incomplete:
            self._incomplete.add(url)
            url = self._listed_on.get(url, "")

    def item_error(self, item: Any, response: Response | None = None, spider: Any = None, **kwargs: Any) -> None:
        """A page that a pipeline stage failed on (e.g. a database write) was not stored: read
        the listing that led to it again next time."""
        if response is not None:
            self.listing_incomplete(response.meta.get("listed_on", ""))

    # -- stored articles ------------------------------------------------------------------------

    def request_scheduled(self, request: Request, spider: Any = None) -> None:
        """Drop an article request whose canonical URL is stored (raises AlreadyStored)."""
        if self.refresh or self.lookups is None or request.meta.get("page_type") != "article":
            return
        url = self._canonical(request)
        if url in self._skipped:
            raise AlreadyStored(url)
        if hash(url) in self._passed:
            return
        try:
            stored = self.lookups.is_stored_url(url)
        except SQLAlchemyError as exc:  # fail open: fetching again is harmless, storage upserts
            logger.warning("cannot check %s against the database: %s", url, exc)
            return
        if not stored:
            self._passed.add(hash(url))
            return
        self._skipped.add(url)
        self.stats.inc_value("sahel/skipped_seen")
        logger.debug("already stored, not fetched: %s", url)
        raise AlreadyStored(url)

    def _canonical(self, request: Request) -> str:
        # The spider canonicalises article URLs; redirect targets arrive as served. An archived
        # capture (a backfill from the Wayback Machine) is stored under the article's own URL.
        url = request.meta.get("archived_url") or request.url
        try:
            return canonicalize_url(url, rules=self.rules.get(request.meta.get("outlet", "")))
        except ValueError:
            return url

    # -- conditional GET ------------------------------------------------------------------------

    def process_request(self, request: Request, spider: Any = None) -> None:
        """Add the remembered validators to a feed or sitemap request."""
        if request.meta.get("page_type") not in _CONDITIONAL_PAGE_TYPES or self.lookups is None:
            return None
        for name in _CONDITIONAL_HEADERS:  # a redirect copies the headers meant for its source URL
            request.headers.pop(name, None)
        if self.refresh:
            return None
        try:
            validators = self.lookups.validators(request.url)
        except SQLAlchemyError as exc:
            logger.warning("cannot read validators of %s: %s", request.url, exc)
            return None
        if validators is not None:
            etag, last_modified = validators
            if etag:
                request.headers[b"If-None-Match"] = etag
            if last_modified:
                request.headers[b"If-Modified-Since"] = last_modified
        return None

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        """Count a 304 as not modified (raises NotModified); note the validators of a 200."""
        if request.meta.get("page_type") not in _CONDITIONAL_PAGE_TYPES:
            return response
        if response.status == 304:
            self.stats.inc_value("sahel/not_modified")
            logger.debug("not modified since the last crawl: %s", request.url)
            raise NotModified(request.url)
        if response.status == 200:
            self._validators[response.url] = (_header(response, b"ETag"), _header(response, b"Last-Modified"))
            if request.meta.get("listed_on"):
                self._listed_on[response.url] = request.meta["listed_on"]
        return response


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
