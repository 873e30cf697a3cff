"""The `backfill` spider: the `news` spider with archive start requests instead of the live ones.

Its article requests, items and failures are the news spider's, so every pipeline stage, the
incremental skip of stored articles and the run record are those of a crawl. Only the start
differs: archive sitemap indexes, the Wayback Machine's CDX index, or the records of WARC files.
Each request carries the archive month it belongs to (meta "backfill"), which the ledger
(sahel_crawler.backfill.ledger) uses to skip finished months and to record those read in full.
"""

from __future__ import annotations

import glob
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.settings import SETTINGS_PRIORITIES

from sahel_crawler.backfill.ledger import month_listed
from sahel_crawler.backfill.months import month_in_url, month_of, months_between
from sahel_crawler.backfill.warc import WarcError, html_entries
from sahel_crawler.items import ArticleItem
from sahel_crawler.sources import Outlet
from sahel_crawler.spiders.news import NewsSpider
from sahel_crawler.text.urls import canonicalize_url

SOURCES = ("sitemaps", "wayback", "warc")
_LISTING_PRIORITY = 1000  # listings before articles, newest (or oldest) month first


def backfill_period(settings: Any, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[since, until) of SAHEL_BACKFILL_SINCE / _UNTIL as aware UTC datetimes (ValueError if unusable)."""
    since_text, until_text = settings.get("SAHEL_BACKFILL_SINCE"), settings.get("SAHEL_BACKFILL_UNTIL")
    if not since_text:
        raise ValueError("SAHEL_BACKFILL_SINCE is not set: a backfill needs the start of its period")
    since = _utc(since_text, "SAHEL_BACKFILL_SINCE")
    until = _utc(until_text, "SAHEL_BACKFILL_UNTIL") if until_text else (now or datetime.now(UTC))
    if until <= since:
        raise ValueError(f"the backfill period is empty: {since.isoformat()} to {until.isoformat()}")
    return since, until


def _utc(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not an ISO 8601 date or time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def warc_paths(patterns: list[str]) -> list[str]:
    """The files the WARC paths and globs name, in order (ValueError for one that names none)."""
    paths: list[str] = []
    for pattern in patterns:
        found = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern] if Path(pattern).is_file() else []
        if not found:
            raise ValueError(f"no WARC file at {pattern}")
        paths += [p for p in found if p not in paths]
    return paths


def add_backfill_components(settings: Any) -> None:
    """Add the backfill's WARC middleware, ledger and progress line, and the Wayback Machine's
    download slot, to their dict settings, at the priority each dict was set with (so that a
    `-s EXTENSIONS=...` keeps them)."""
    wayback = urlsplit(settings.get("SAHEL_WAYBACK_URL")).hostname or ""
    added = {
        "DOWNLOADER_MIDDLEWARES": {"sahel_crawler.backfill.replay.WarcReplayMiddleware": 40},
        "EXTENSIONS": {
            "sahel_crawler.progress.ProgressExtension": None,
            "sahel_crawler.backfill.progress.BackfillProgress": 500,
            "sahel_crawler.backfill.ledger.BackfillLedger": 520,
        },
        "DOWNLOAD_SLOTS": {wayback: {"concurrency": 1, "delay": settings.getfloat("SAHEL_WAYBACK_DELAY")}},
    }
    for name, components in added.items():
        priority = max(settings.getpriority(name) or 0, SETTINGS_PRIORITIES["spider"])
        settings.set(name, {**settings.getdict(name), **components}, priority=priority)


class BackfillSpider(NewsSpider):
    """Read an archive period of the registry's outlets through the news spider's pipeline.

    Settings: SAHEL_BACKFILL_SOURCE (sitemaps | wayback | warc), SAHEL_BACKFILL_SINCE,
    SAHEL_BACKFILL_UNTIL, SAHEL_BACKFILL_WARC, SAHEL_BACKFILL_ORDER (newest | oldest),
    SAHEL_WAYBACK_URL, SAHEL_WAYBACK_DELAY, and those of the news spider.
    """

    name = "backfill"

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        add_backfill_components(settings)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> BackfillSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.source = settings.get("SAHEL_BACKFILL_SOURCE")
        if spider.source not in SOURCES:
            raise ValueError(f"SAHEL_BACKFILL_SOURCE: {spider.source!r} is not one of {', '.join(SOURCES)}")
        spider.since, spider.until = backfill_period(settings)
        spider.months = months_between(spider.since, spider.until)
        spider.newest_first = settings.get("SAHEL_BACKFILL_ORDER") != "oldest"
        spider.wayback_url = settings.get("SAHEL_WAYBACK_URL").rstrip("/")
        # the off-site filter lets an outlet's requests reach the archive (sahel_crawler.offsite)
        spider.archive_hosts = frozenset({urlsplit(spider.wayback_url).hostname or ""})
        if spider.source == "wayback":  # its robots.txt too
            spider.allowed_domains = sorted({*spider.allowed_domains, *spider.archive_hosts})
        spider.warc_files = warc_paths(settings.getlist("SAHEL_BACKFILL_WARC")) if spider.source == "warc" else []
        return spider

    def _rank(self, month: str | None) -> int:
        """Priority of a month's requests: the first month read gets the highest."""
        if month is None or month not in self.months:
            return 0
        index = self.months.index(month)
        return index if self.newest_first else len(self.months) - index

    def _in_period(self, moment: datetime | None) -> bool:
        return moment is None or self.since <= moment < self.until

    def _listed(self, outlet: str, source: str, month: str, count: int, listing: str) -> None:
        self.crawler.stats.inc_value("sahel/backfill_months_listed")
        self.crawler.stats.inc_value("sahel/backfill_listed", count)
        self.crawler.signals.send_catch_log(
            month_listed, outlet=outlet, source=source, month=month, listed=count, listing=listing
        )

    # -- start ------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.crawler.stats.set_value("sahel/backfill_months_total", len(self.months) * len(self.outlets))
        starts = {"sitemaps": self._sitemap_starts, "wayback": self._wayback_starts, "warc": self._warc_starts}
        for request in starts[self.source]():
            yield request

    def _sitemap_starts(self) -> Iterator[scrapy.Request]:
        for outlet in self.outlets.values():
            if not outlet.archive_sitemaps:
                self._report(
                    outlet.id, "backfill", "no archive_sitemaps in the sources registry: nothing to read", outlet.id
                )
            for url in outlet.archive_sitemaps:
                if self._admit(outlet.id, url, listed_on=None):
                    meta = {"outlet": outlet.id, "page_type": "sitemap", "backfill": ("sitemaps", tuple(self.months))}
                    yield scrapy.Request(
                        url,
                        self.parse_archive_sitemap,
                        errback=self.on_error,
                        meta=meta,
                        priority=_LISTING_PRIORITY * 2,
                    )

    def parse_archive_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """A sitemap index (its monthly children in the period) or a month's urlset (its articles)."""
        outlet = self.outlets[response.meta["outlet"]]
        result = self._read_sitemap(response)
        parent_month = response.meta.get("backfill_month")
        for url in result.sitemaps:
            month = month_in_url(url) or parent_month
            if month is not None and month not in self.months:
                continue  # outside the period
            meta = self._child_sitemap_meta(response, url)
            if meta is None:
                continue
            meta.update(backfill_month=month, backfill=("sitemaps", (month,) if month else ()))
            priority = _LISTING_PRIORITY + self._rank(month)
            yield response.follow(url, self.parse_archive_sitemap, errback=self.on_error, meta=meta, priority=priority)
        links = [link for link in result.links if self._in_period(link.published_at)]
        for link in links:
            for request in self._article_request(response, link.url, "archive", self._listing_hints(link)):
                yield request.replace(priority=self._rank(parent_month))
        if parent_month is not None and result.root_name == "urlset" and not result.error:
            self._listed(outlet.id, "sitemaps", parent_month, len(links), response.url)

    def _wayback_starts(self) -> Iterator[scrapy.Request]:
        for outlet in self.outlets.values():
            for month in self.months:
                for host in sorted(outlet.hosts):
                    yield self._cdx_request(outlet, host, month)

    def _cdx_request(self, outlet: Outlet, host: str, month: str) -> scrapy.Request:
        year, number = int(month[:4]), int(month[5:])
        query = [
            ("url", f"{host}/*"), ("from", f"{year:04d}{number:02d}"), ("to", f"{year:04d}{number:02d}"),
            ("output", "json"), ("fl", "timestamp,original"), ("filter", "statuscode:200"),
            ("filter", "mimetype:text/html"), ("collapse", "urlkey"),
        ]  # fmt: skip
        meta = {"outlet": outlet.id, "page_type": "cdx", "backfill_month": month, "backfill": ("wayback", (month,))}
        url = f"{self.wayback_url}/cdx/search/cdx?{urlencode(query)}"
        return scrapy.Request(
            url, self.parse_cdx, errback=self.on_error, meta=meta, priority=_LISTING_PRIORITY + self._rank(month)
        )

    def parse_cdx(self, response: Response) -> Iterator[scrapy.Request]:
        """Requests for the original content (`id_`) of the month's captures of article URLs."""
        outlet, month = self.outlets[response.meta["outlet"]], response.meta["backfill_month"]
        try:
            rows = json.loads(response.body or b"[]")
            captures = [(str(row[0]), str(row[1])) for row in rows[1:]]  # the first row names the fields
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            self._report(response.url, "cdx", f"not a CDX JSON answer: {exc}", outlet.id)
            return
        listed = 0
        for timestamp, original in captures:
            captured_at = _capture_time(timestamp)
            if captured_at is None or not self._in_period(captured_at):
                continue
            if not outlet.owns(original) or not outlet.accepts_article_url(original):
                continue
            try:
                canonical = canonicalize_url(original, rules=outlet.urls)
            except ValueError as exc:
                self._report(original, "cdx", f"unusable URL in the CDX index: {exc}", outlet.id)
                continue
            listed += 1
            meta = {
                "outlet": outlet.id, "page_type": "article", "via": "wayback", "hints": {}, "discovered_as": original,
                "listed_on": response.url, "archived_url": canonical, "captured_at": captured_at,
                "backfill": ("wayback", (month,)),
            }  # fmt: skip
            capture = f"{self.wayback_url}/web/{timestamp}id_/{original}"
            yield scrapy.Request(
                capture, self.parse_article, errback=self.on_error, meta=meta, priority=self._rank(month)
            )
        self._listed(outlet.id, "wayback", month, listed, response.url)

    def _warc_starts(self) -> Iterator[scrapy.Request]:
        for path in self.warc_files:
            source = f"warc:{Path(path).name}"
            listed: Counter[tuple[str, str]] = Counter()
            try:
                for entry in html_entries(path):
                    if not self._in_period(entry.captured_at):
                        continue
                    outlet = next((o for o in self.outlets.values() if o.owns(entry.url)), None)
                    if outlet is None or not outlet.accepts_article_url(entry.url):
                        continue  # CC-NEWS holds every news site: only the registry's outlets are kept
                    month = month_of(entry.captured_at)
                    try:
                        canonical = canonicalize_url(entry.url, rules=outlet.urls)
                    except ValueError as exc:
                        self._report(entry.url, "warc", f"unusable URL in {path}: {exc}", outlet.id)
                        continue
                    listed[outlet.id, month] += 1
                    meta = {
                        "outlet": outlet.id, "page_type": "article", "via": "warc", "hints": {},
                        "discovered_as": entry.url, "listed_on": path, "warc": (path, entry.offset),
                        "captured_at": entry.captured_at, "backfill": (source, (month,)),
                    }  # fmt: skip
                    yield scrapy.Request(canonical, self.parse_article, errback=self.on_error, meta=meta)
            except WarcError as exc:
                self._report(path, "warc", f"WARC file unreadable, its later records skipped: {exc}", None)
                continue  # its months stay unfinished: the next backfill reads the file again
            for (outlet_id, month), count in sorted(listed.items()):
                self._listed(outlet_id, source, month, count, path)

    # -- articles ---------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        """The news spider's item, stored under the original URL with the capture time as its fetch time."""
        for item in super().parse_article(response):
            archived = response.meta.get("archived_url")
            if archived:  # a Wayback capture: the archive's URL is no address of the article
                item.url = item.requested_url = archived
                item.aliases = [u for u in {response.meta["discovered_as"]} if u != archived]
            if response.meta.get("captured_at"):
                item.fetched_at = response.meta["captured_at"]
            yield item


def _capture_time(timestamp: str) -> datetime | None:
    try:
        return datetime.strptime(timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
