"""Scrapy settings of the Sahel news monitor, and the SAHEL_* settings of its own stages.

Environment variables are read here and nowhere else. Every SAHEL_* setting can be
overridden per crawl with `-s NAME=VALUE` or from the `sahel` CLI.
"""

from __future__ import annotations

import os

from sahel_crawler.text.language import DEFAULT_LANGUAGES

BOT_NAME = "sahel_crawler"
SPIDER_MODULES = ["sahel_crawler.spiders"]
NEWSPIDER_MODULE = "sahel_crawler.spiders"

# -- Our own settings ---------------------------------------------------------------------
# Database URL; SQLite in ./data by default so a fresh clone works without a server.
SAHEL_DB_URL: str = os.environ.get("SAHEL_DB_URL", "sqlite:///data/sahel.db")
# Sources registry (YAML); None means the bundled sahel_crawler/sources/sources.yaml.
SAHEL_SOURCES_PATH: str | None = os.environ.get("SAHEL_SOURCES_PATH") or None
# Only crawl these outlet ids (comma-separated or a list); empty means every outlet.
SAHEL_OUTLETS: list[str] = []
# Keyword lexicon (YAML); None means the bundled lexicon.
SAHEL_LEXICON_PATH: str | None = os.environ.get("SAHEL_LEXICON_PATH") or None
SAHEL_KEYWORDS_ENABLED = True
# Place hits with the bundled gazetteer (sahel_crawler/places, docs/places.md).
SAHEL_PLACES_ENABLED = True
# Language detection looks at this many characters of the body: enough for a stable answer,
# a fraction of the cost of the whole text.
SAHEL_LANGUAGE_PREFIX_CHARS = 400
# Languages detection chooses among (sahel_crawler/text/language.py explains the choice); "all": every profile.
SAHEL_DETECT_LANGUAGES = list(DEFAULT_LANGUAGES)
# Worker processes for a page's text work: extraction, language, keywords... (None: one per CPU;
# 0: inline on the reactor thread), and the time limit of one page in a worker (seconds).
SAHEL_EXTRACT_WORKERS: int | None = None
SAHEL_EXTRACT_TIMEOUT = 20.0
# A body shorter than this (characters) is page chrome, not an article: counted, not stored.
SAHEL_MIN_TEXT_CHARS = 200
# Pages larger than this (characters of decoded HTML) are cut before extraction.
SAHEL_EXTRACT_MAX_CHARS = 2_000_000
# Discovery caps per outlet and crawl, so that a sitemap index listing ever new child sitemaps
# ends: how deep sitemaps may nest (a sitemap in the registry is at depth 1), and how many feeds,
# sitemaps and section pages may be fetched in all.
SAHEL_SITEMAP_MAX_DEPTH = 3
SAHEL_MAX_DISCOVERY_DOCUMENTS = 500
# Stored fields are cut to these many characters (feed and sitemap titles too): no page or
# listing can make one row of the database, or one item in memory, arbitrarily large.
SAHEL_MAX_TITLE_CHARS = 1000
SAHEL_MAX_AUTHOR_CHARS = 500
SAHEL_MAX_DESCRIPTION_CHARS = 5000
SAHEL_MAX_TEXT_CHARS = 1_000_000
# Entries read from one feed or sitemap document (the sitemaps protocol's cap); the rest is
# recorded as a feed/sitemap error.
SAHEL_MAX_LINKS_PER_DOCUMENT = 50_000
# Addresses the crawler may fetch although they are private/loopback (the offline replay, tests):
# "host:port", or a bare host for the ports of the registry's URLs on it.
SAHEL_ALLOWED_PRIVATE_HOSTS: list[str] = [h for h in os.environ.get("SAHEL_ALLOWED_PRIVATE_HOSTS", "").split(",") if h]
# -- Incremental crawling and duplicates --
# Skip stored articles and fetch feeds/sitemaps with conditional GET (database = memory across runs).
SAHEL_INCREMENTAL_ENABLED = True
# Refetch stored articles to catch updates, without conditional GET (`sahel crawl --refresh`).
SAHEL_REFRESH = False
# Duplicates: exact copies become aliases of the kept article, near-copies get duplicate_of.
SAHEL_DEDUP_ENABLED = True
# Near-duplicate signatures created in this many days are loaded at start.
SAHEL_DEDUP_WINDOW_DAYS = 30.0
# Most signatures held in memory, newest kept (memory per signature: docs/performance.md).
# Syndicated copies appear within days; 10k covers a month of a few hundred articles a day.
SAHEL_DEDUP_MAX_ITEMS = 10_000
# Estimated Jaccard similarity of word 3-shingles from which two bodies are near-duplicates.
SAHEL_DEDUP_THRESHOLD = 0.4

# The store stage writes finished articles in one transaction per batch of this many items, or
# at least this often (seconds), from its own database thread.
SAHEL_STORE_BATCH_SIZE = 100
SAHEL_STORE_BATCH_SECONDS = 1.0
# The store stage appends the id of the crawl's run record to this file once it is recorded: the
# scheduler sets it to tell its crawl's run from those of other crawls (docs/operations.md).
SAHEL_RUN_ID_FILE: str | None = os.environ.get("SAHEL_RUN_ID_FILE") or None

# -- Archive backfill (`sahel backfill`, docs/operations.md) --
# Where the `backfill` spider starts: "sitemaps" (the registry's archive_sitemaps), "wayback"
# (the Wayback Machine's CDX index) or "warc" (the WARC files of SAHEL_BACKFILL_WARC).
SAHEL_BACKFILL_SOURCE = "sitemaps"
# The period, ISO 8601 times (UTC when without an offset): from SINCE, before UNTIL (None: now).
SAHEL_BACKFILL_SINCE: str | None = None
SAHEL_BACKFILL_UNTIL: str | None = None
# WARC files (paths or globs) a "warc" backfill reads.
SAHEL_BACKFILL_WARC: list[str] = []
# "newest" or "oldest": which months of the period are read first.
SAHEL_BACKFILL_ORDER = "newest"
# The Wayback Machine (CDX API at /cdx/search/cdx, captures at /web/), and the delay between two
# of its requests (seconds): the archive asks crawlers to keep to about one request a second.
SAHEL_WAYBACK_URL = "https://web.archive.org"
SAHEL_WAYBACK_DELAY = 1.0

# -- The daily digest (docs/digest.md) --
# SMTP server for emailed digests: smtp://host[:port], smtp+starttls://user:pass@host[:port], smtps://...
SAHEL_SMTP_URL: str | None = os.environ.get("SAHEL_SMTP_URL") or None
# Sender address of emailed digests.
SAHEL_DIGEST_FROM: str | None = os.environ.get("SAHEL_DIGEST_FROM") or None
# Recipients of `sahel digest --send`, comma-separated.
SAHEL_DIGEST_TO: str = os.environ.get("SAHEL_DIGEST_TO", "")
# Time zone whose days a digest covers ("yesterday" is computed in it).
SAHEL_DIGEST_TZ: str = os.environ.get("SAHEL_DIGEST_TZ", "Africa/Bamako")
# -- Watch rules and alerts (docs/alerts.md) --
# The watch rules file `sahel alerts run` and `sahel crawl --watch` read by default.
SAHEL_WATCH_PATH: str | None = os.environ.get("SAHEL_WATCH_PATH") or None
# Sender address of alert emails (sent through SAHEL_SMTP_URL).
SAHEL_ALERT_FROM: str | None = os.environ.get("SAHEL_ALERT_FROM") or SAHEL_DIGEST_FROM
# A failed delivery is retried on a later run, after this many seconds, doubling up to the maximum.
SAHEL_ALERT_RETRY_SECONDS = 60.0
SAHEL_ALERT_RETRY_MAX_SECONDS = 21600.0
# Seconds a webhook receiver has to answer.
SAHEL_WEBHOOK_TIMEOUT = 10.0
# Entries an alert feed holds (the rule's latest alerts).
SAHEL_FEED_ENTRIES = 100
# Seconds between progress lines.
SAHEL_PROGRESS_INTERVAL = 5.0
# Allocations between collections of the garbage collector's youngest generation during a crawl
# (Python's default is 700; sahel_crawler/collector.py says why; 0 keeps Python's settings).
SAHEL_GC_YOUNG_THRESHOLD = 10_000

# -- Politeness and identity ----------------------------------------------------------------
USER_AGENT = os.environ.get(
    "SAHEL_USER_AGENT",
    "SahelNewsMonitor/0.1 (+https://github.com/sahel-news-monitor; news monitoring for research)",
)
ROBOTSTXT_OBEY = True
# robots.txt is read up to this many bytes (RFC 9309, 2.5: at least 500 KiB; rules past it are ignored).
SAHEL_ROBOTSTXT_MAX_BYTES = 500 * 1024
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
# Scrapy runs this many items of one response in parallel; an article page yields one item, and
# the default (100) only adds scheduling overhead on the reactor thread.
CONCURRENT_ITEMS = 4
# Scrapy stops downloading while the pages it is processing hold more than this many bytes. An
# article waits in the storage stage until its batch commits, so the limit must hold a store
# batch of real pages, or every batch pauses the downloads and idles the extraction workers
# (docs/performance.md).
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 12_000_000
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# A 429/503 with Retry-After holds that host's requests for as long as it asks, up to this.
SAHEL_RETRY_AFTER_MAX_SECONDS = 120
# A page of at most this many characters served alike on this many article URLs of one outlet is
# a bot challenge (recorded as `blocked`); real article pages are far longer.
SAHEL_CHALLENGE_MAX_CHARS = 20_000
SAHEL_CHALLENGE_MIN_PAGES = 3

# -- Hardening (Scrapy's security docs and advisories) --------------------------------------
TELNETCONSOLE_ENABLED = False
# Scrapy's RemoteControl extension serves an HTTP endpoint on localhost that runs any Python code
# in the crawler.
REMOTE_CONTROL_ENABLED = False
# Certificates are verified against the system's CA store (or the bundle SSL_CERT_FILE names); an
# outlet opts out with `verify_tls: false` in the registry (docs/sources.md).
DOWNLOAD_VERIFY_CERTIFICATES = True
DOWNLOAD_HANDLERS = {
    # Scrapy's HTTP/1.1 handler with a header-section cap and verification per outlet
    "http": "sahel_crawler.download.SahelDownloadHandler",
    "https": "sahel_crawler.download.SahelDownloadHandler",
    "file": None,
    "data": None,
    "ftp": None,
    "s3": None,
}
# A response's status line and headers: at most this many bytes and lines (real outlets send
# under 8 KB), past which the download fails as `too_large`.
SAHEL_MAX_HEADER_BYTES = 64 * 1024
SAHEL_MAX_HEADER_COUNT = 200
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
DOWNLOADER_MIDDLEWARES = {
    # before robots.txt and every other downloader middleware, so nothing reaches an internal address
    "sahel_crawler.middlewares.PrivateAddressMiddleware": 50,
    # Scrapy's off-site filter, keeping each outlet's requests (and redirects) on its own hosts
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "sahel_crawler.offsite.OutletOffsiteMiddleware": 55,
    # drops stored articles when scheduled; conditional GET for feeds and sitemaps
    "sahel_crawler.incremental.IncrementalMiddleware": 60,
    # a robots.txt answering 5xx means "disallow all" for that host, not "no rules"
    "sahel_crawler.middlewares.RobotsServerErrorMiddleware": 70,
    # robots.txt read up to SAHEL_ROBOTSTXT_MAX_BYTES
    "sahel_crawler.robots.RobotsSizeCapMiddleware": 75,
    # above RetryMiddleware (550): a lookup the resolver refused is reported as `internal`, not retried
    "sahel_crawler.resolver.RefusedLookupMiddleware": 560,
    # above RetryMiddleware (550): it sees a 429/503's Retry-After before the retry is scheduled
    "sahel_crawler.retryafter.RetryAfterMiddleware": 570,
}
# Host names are judged by the answer the connection uses: the resolver fails the lookup of a
# name that resolves to an internal address (not in SAHEL_ALLOWED_PRIVATE_HOSTS), so a name
# cannot answer a public address to a check and an internal one to the connection (DNS rebinding).
TWISTED_DNS_RESOLVER = "sahel_crawler.resolver.PrivateAddressResolver"
# No proxies from http(s)_proxy: through a proxy, only the proxy's name is looked up here and the
# check above would never see the outlet's. Enable it (-s HTTPPROXY_ENABLED=True) only with a proxy
# that refuses internal addresses itself.
HTTPPROXY_ENABLED = False
METAREFRESH_ENABLED = False
# Pending requests wait in disk queues (a temporary folder), so a crawl of a large archive does
# not hold every discovered request in memory; SAHEL_DISK_QUEUE = False keeps them in memory.
SCHEDULER = "sahel_crawler.frontier.DiskQueueScheduler"
SAHEL_DISK_QUEUE = True
# Redis key of a shared crawl's worker set; `sahel crawl --redis` sets it (sahel_crawler/scaleout.py).
SAHEL_REDIS_WORKERS_KEY: str | None = None

# -- The pipeline ---------------------------------------------------------------------------
# Extraction comes first: canonicalisation needs the page's declared rel=canonical, and every
# later stage needs the text.
ITEM_PIPELINES = {
    "pipelines.extract.ExtractionPipeline": 100,
    "pipelines.canonical.CanonicalUrlPipeline": 200,
    "pipelines.dedup.DedupPipeline": 400,
    "pipelines.store.StoragePipeline": 900,
}
EXTENSIONS = {
    "sahel_crawler.progress.ProgressExtension": 500,
    "sahel_crawler.collector.CollectorTuning": 510,
}

LOG_LEVEL = os.environ.get("SAHEL_LOG_LEVEL", "INFO")
STATS_DUMP = False  # the crawl run record keeps the counters; the full dump is noise
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_FORMATTER = "sahel_crawler.logformatter.SahelLogFormatter"
# `scrapy crawl` refuses a bad outlet or setting with one line, as `sahel crawl` does.
COMMANDS_MODULE = "sahel_crawler.scrapy_commands"
