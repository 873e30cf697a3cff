"""The one generic spider: reads the sources registry, discovers article URLs through feeds,
sitemaps and section pages, and yields each article page as an ArticleItem.

It fetches and reports; it never touches the database (failures go out as a signal).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import parsel
import scrapy
from scrapy import signals
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from twisted.python.failure import Failure
from w3lib.url import canonicalize_url as same_page  # the form Scrapy's duplicate filter compares

from sahel_crawler.discovery import DiscoveredLink, SitemapResult, parse_feed, parse_sitemap
from sahel_crawler.discovery.feeds import http_url
from sahel_crawler.discovery.links import looks_like_article_url
from sahel_crawler.discovery_budget import DiscoveryBudget
from sahel_crawler.extraction import cap
from sahel_crawler.items import ArticleItem
from sahel_crawler.offsite import OutletOffsiteMiddleware
from sahel_crawler.signals import listing_incomplete, report_failure
from sahel_crawler.sources import Outlet, outlet_ids_from_setting, registry_from_settings
from sahel_crawler.spiders.charset import decoded_html
from sahel_crawler.spiders.failures import classify_failure, may_pass_next_time
from sahel_crawler.text.urls import canonicalize_url

_DISCOVERY_PRIORITY = {"feed": 30, "sitemap": 20, "section": 10}
_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


class NewsSpider(scrapy.Spider):
    """Crawl the outlets of the sources registry.

    Settings: SAHEL_SOURCES_PATH (registry file), SAHEL_OUTLETS (outlet ids; also `-a outlets=a,b`),
    SAHEL_MAX_DISCOVERY_DOCUMENTS and SAHEL_SITEMAP_MAX_DEPTH (caps per outlet and crawl, see
    `DiscoveryBudget`; what they cut is reported once per outlet and cap, kind `discovery_cap`).
    """

    name = "news"
    budget: DiscoveryBudget  # built in from_crawler, from the settings

    def __init__(self, *args: Any, outlets: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outlet_arg = outlets
        self.outlets: dict[str, Outlet] = {}
        self._link_extractor = LinkExtractor(unique=True)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        registry = registry_from_settings(crawler.settings)
        wanted = outlet_ids_from_setting(spider._outlet_arg or crawler.settings.get("SAHEL_OUTLETS"))
        spider.outlets = {o.id: o for o in registry.select(wanted)}
        for outlet in spider.outlets.values():
            if not outlet.verify_tls:
                spider.logger.warning(
                    "TLS certificates of outlet %s are not verified (verify_tls: false in %s): hosts %s",
                    outlet.id, registry.path, ", ".join(sorted(outlet.hosts)),
                )  # fmt: skip
        # The off-site filter: requests of an outlet stay on its hosts (sahel_crawler.offsite); others
        # (robots.txt) on the hosts of every outlet.
        spider.allowed_domains = sorted({h for o in spider.outlets.values() for h in o.hosts})
        spider.budget = DiscoveryBudget(
            max_documents=crawler.settings.getint("SAHEL_MAX_DISCOVERY_DOCUMENTS"),
            max_sitemap_depth=crawler.settings.getint("SAHEL_SITEMAP_MAX_DEPTH"),
        )
        # Scrapy drops an off-site redirect when it is scheduled, before any errback: report it here.
        crawler.signals.connect(spider.on_scheduled, signal=signals.request_scheduled)
        return spider

    # -- start ------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self._start_requests():
            yield request

    def _start_requests(self) -> Iterator[scrapy.Request]:
        callbacks = {"feed": self.parse_feed, "sitemap": self.parse_sitemap, "section": self.parse_section}
        for outlet in self.outlets.values():
            for page_type, url in outlet.start_urls():
                if not self._admit(outlet.id, url, listed_on=None):
                    continue
                yield scrapy.Request(
                    url,
                    callback=callbacks[page_type],
                    errback=self.on_error,
                    meta={"outlet": outlet.id, "page_type": page_type},
                    # discovery before articles, so the frontier fills early; feeds before sitemaps
                    # before sections, so an article found by several routes is mostly credited
                    # to its feed (the first discovery of a URL wins)
                    priority=_DISCOVERY_PRIORITY[page_type],
                )

    # -- discovery --------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """Article requests for the entries of an RSS/Atom/RDF feed."""
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        max_links = self.crawler.settings.getint("SAHEL_MAX_LINKS_PER_DOCUMENT")
        result = parse_feed(response.body, response.url, content_type=content_type, max_links=max_links)
        if result.error:
            self._report(response.url, "feed", result.error, response.meta["outlet"])
        for link in result.links:
            yield from self._article_request(response, link.url, "feed", self._listing_hints(link))

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """Child sitemaps of an index, or article requests for a urlset (Google News fields kept)."""
        result = self._read_sitemap(response)
        for url in result.sitemaps:
            meta = self._child_sitemap_meta(response, url)
            if meta is not None:
                priority = _DISCOVERY_PRIORITY["sitemap"]
                yield response.follow(url, self.parse_sitemap, errback=self.on_error, meta=meta, priority=priority)
        for link in result.links:
            yield from self._article_request(response, link.url, "sitemap", self._listing_hints(link))

    def _read_sitemap(self, response: Response) -> SitemapResult:
        """The sitemap's entries, up to SAHEL_MAX_LINKS_PER_DOCUMENT; a problem is reported (kind `sitemap`)."""
        result = parse_sitemap(
            response.body, response.url, max_urls=self.crawler.settings.getint("SAHEL_MAX_LINKS_PER_DOCUMENT")
        )
        if result.error:
            self._report(response.url, "sitemap", result.error, response.meta["outlet"])
        return result

    def _child_sitemap_meta(self, response: Response, url: str) -> dict[str, Any] | None:
        """The meta of a request for a child sitemap the index `response` lists, or None when it
        is off the outlet's hosts (reported) or over the discovery caps."""
        outlet = self.outlets[response.meta["outlet"]]
        if not outlet.owns(url):
            reason = f"child sitemap on a host the outlet does not list, not followed (add it under hosts:): {url}"
            self._report(response.url, "offsite", reason, outlet.id)
            return None
        depth = response.meta.get("sitemap_depth", 1) + 1
        if not self._admit(outlet.id, response.urljoin(url), listed_on=response.url, sitemap_depth=depth):
            return None
        return {"outlet": outlet.id, "page_type": "sitemap", "listed_on": response.url, "sitemap_depth": depth}

    def _listing_hints(self, link: DiscoveredLink) -> dict[str, Any]:
        """What a feed or sitemap says of a page, its title, description and author cut to
        SAHEL_MAX_TITLE_CHARS, SAHEL_MAX_DESCRIPTION_CHARS and SAHEL_MAX_AUTHOR_CHARS (the feed's
        teaser, stored when the outlet refuses the page)."""
        settings = self.crawler.settings
        return {
            "title": cap(link.title, settings.getint("SAHEL_MAX_TITLE_CHARS")),
            "published_at": link.published_at,
            "language": link.language,
            "description": cap(link.description, settings.getint("SAHEL_MAX_DESCRIPTION_CHARS")),
            "author": cap(link.author, settings.getint("SAHEL_MAX_AUTHOR_CHARS")),
            "categories": list(link.categories),
        }

    def parse_section(self, response: Response) -> Iterator[scrapy.Request]:
        """Article requests for the article-looking links of a section page."""
        if not isinstance(response, TextResponse):
            self._report(response.url, "not_html", "section page is not HTML", response.meta["outlet"])
            return
        # Hosts are checked per link in _article_request (LinkExtractor's allow_domains compares
        # host:port, which misses outlets served on a non-default port).
        try:
            urls = [link.url for link in self._link_extractor.extract_links(response)]
        except ValueError as exc:  # e.g. a malformed <base href>: Scrapy's extractor gives up on the page
            reason = f"links resolved against the page's own URL: {exc}"
            self._report(response.url, "section", reason, response.meta["outlet"])
            # parsel's selector, not Scrapy's: Scrapy's resolves the <base href> and fails the same way
            hrefs = parsel.Selector(text=response.text).xpath("//a/@href").getall()
            urls = [u for href in hrefs if (u := http_url(href, response.url))]
        for url in urls:
            if looks_like_article_url(url):
                yield from self._article_request(response, url, "section", {})

    def _article_request(
        self, response: Response, url: str, via: str, hints: dict[str, Any]
    ) -> Iterable[scrapy.Request]:
        outlet = self.outlets[response.meta["outlet"]]
        if not outlet.owns(url) or not outlet.accepts_article_url(url):
            return ()
        meta = {
            "outlet": outlet.id, "page_type": "article", "via": via, "hints": hints, "discovered_as": url,
            "listed_on": response.url,
        }  # fmt: skip
        try:
            canonical = canonicalize_url(url, rules=outlet.urls)
            return (scrapy.Request(canonical, callback=self.parse_article, errback=self.on_error, meta=meta),)
        except ValueError as exc:  # a listed URL Scrapy cannot request: the rest of the list goes on
            self._report(url, via, f"unusable article URL listed on {response.url}: {exc}", outlet.id)
            return ()

    def _admit(self, outlet: str, url: str, *, listed_on: str | None, sitemap_depth: int = 1) -> bool:
        """True when the outlet's discovery budget lets `url` be fetched; the first cut of each cap
        per outlet is reported (kind `discovery_cap`), later ones are only counted."""
        cut = self.budget.admit(outlet, url, sitemap_depth)
        if cut is None:
            return True
        self.crawler.stats.inc_value("sahel/discovery_cut")
        if listed_on is not None:  # keep no validators: the next crawl must read the listing again
            self.crawler.signals.send_catch_log(listing_incomplete, url=listed_on)
        if cut.first:
            where = f" (listed on {listed_on})" if listed_on else " (listed in the sources registry)"
            self._report(url, "discovery_cap", cut.reason + where, outlet)
        return False

    def closed(self, reason: str) -> None:
        """Say how many discovery documents each outlet's caps left unread."""
        for outlet, count in sorted(self.budget.cut.items()):
            self.logger.warning("%s: %d feeds, sitemaps or section pages not fetched (discovery caps)", outlet, count)

    # -- articles ---------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        """The fetched article page, decoded, for the pipelines."""
        content_type = response.headers.get(b"Content-Type", b"").split(b";")[0].strip().lower()
        if not isinstance(response, TextResponse) or (content_type and content_type not in _HTML_TYPES):
            reason = f"not an HTML page ({content_type.decode('latin-1') or 'unknown type'})"
            self._report(response.url, "not_html", reason, response.meta["outlet"])
            return
        discovered_as = response.meta.get("discovered_as", response.url)
        yield ArticleItem(
            url=response.url,
            outlet=response.meta["outlet"],
            html=decoded_html(response),
            fetched_at=datetime.now(UTC),
            requested_url=discovered_as,
            discovered_via=response.meta.get("via", ""),
            hints={k: v for k, v in response.meta.get("hints", {}).items() if v is not None},
            aliases=[u for u in {discovered_as, response.request.url} if u != response.url],
        )

    # -- failures ---------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> Iterator[ArticleItem]:
        """Log, count and report a request that failed, with a reason a reader understands;
        the crawl goes on. An article page the outlet refuses (kind "blocked") that a feed listed
        is stored as the feed's teaser instead (`text_source` "feed").

        A request a middleware chose not to send (robots.txt, already stored, not modified) is no
        failure: those middlewares count their own skips. Every other refusal (internal address,
        off-site or looping redirect, oversize body) is one.
        """
        request = failure.request  # type: ignore[attr-defined]
        classified = classify_failure(failure)
        if classified is None:
            self.logger.debug("skipped %s: %s", request.url, failure.getErrorMessage())
            return
        error_kind, reason = classified
        # Report the URL the crawler was sent to; a redirect's target is part of the reason.
        first = (request.meta.get("redirect_urls") or [request.url])[0]
        if first != request.url and request.url not in reason:
            reason = f"{reason} (redirected to {request.url})"
        self._report(first, error_kind, reason, request.meta.get("outlet"))
        if error_kind == "blocked" and request.meta.get("page_type") == "article":
            yield from feed_teaser(request)
        listing = request.meta.get("listed_on")
        if listing and may_pass_next_time(failure, error_kind):
            self.crawler.signals.send_catch_log(listing_incomplete, url=listing)

    def on_scheduled(self, request: scrapy.Request, spider: Any = None) -> None:
        """Report a redirect that leaves every outlet's hosts, or that comes back to a URL of its own
        chain (A -> B -> A): Scrapy's offsite and duplicate filters then drop it silently, so the
        page would be lost without a word."""
        redirects = request.meta.get("redirect_urls")
        if not redirects or request.dont_filter:
            return
        if not self._offsite.should_follow(request, self):
            owner = next((o.id for o in self.outlets.values() if o.owns(request.url)), None)
            where = f", a host of outlet {owner}" if owner else ""
            reason = f"redirected off the outlet's hosts to {request.url}{where}: not followed"
            self._report(redirects[0], "offsite", reason, request.meta.get("outlet"))
        elif same_page(request.url) in {same_page(u) for u in redirects}:
            reason = f"redirect loop: {' -> '.join([*redirects, request.url])}"
            self._report(redirects[0], "redirect", reason, request.meta.get("outlet"))

    @cached_property
    def _offsite(self) -> OutletOffsiteMiddleware:
        # the off-site middleware's own rule, to report what it drops
        return OutletOffsiteMiddleware(self.crawler.stats)

    def _report(self, url: str, error_kind: str, reason: str, outlet: str | None) -> None:
        report_failure(self.crawler.stats, self.crawler.signals, self.logger, url, error_kind, reason, outlet)


def feed_teaser(request: scrapy.Request) -> Iterator[ArticleItem]:
    """The feed's entry for a refused article page, as an article to store (none without a title)."""
    hints = {k: v for k, v in request.meta.get("hints", {}).items() if v is not None}
    if request.meta.get("via") != "feed" or not hints.get("title"):
        return
    url = request.meta.get("discovered_as", request.url)
    yield ArticleItem(
        url=request.url,
        outlet=request.meta["outlet"],
        html="",
        fetched_at=datetime.now(UTC),
        requested_url=url,
        discovered_via="feed",
        hints=hints,
        aliases=[url] if url != request.url else [],
        text_source="feed",
    )
