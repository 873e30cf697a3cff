"""Fault injection: one crawl of a site serving good articles beside every fault of tests/faults.

For every fault: the crawl goes on, a log line names the URL and the reason, the run record counts
it, the good articles served beside it are all stored, nothing hangs and memory stays bounded.
Slow extraction and crashing extraction workers: tests/test_processing.py. Feed and sitemap
parsing in depth (feedparser's ill-formed and encoding cases, XXE, billion laughs, gzip bombs):
tests/test_discovery.py.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sahel_crawler import settings
from sahel_crawler.demo import REPLAY_OVERRIDES, settings_args
from sahel_crawler.discovery import ENTITY_REFUSAL
from sahel_crawler.middlewares import is_internal_host
from tests.faults import FaultServer, FaultSite, build_fault_site
from tests.faults.process import Measured, run_measured
from tests.faults.site import DAY, LINK_CAP, NON_HTTP_REDIRECTS, REFUSALS

pytestmark = pytest.mark.slow

PEAK_RSS_LIMIT_MB = 600
# The replay's settings, with a third loopback host (the off-site target) and a download timeout
# short enough for a test, the same code path as production's 30 s.
CRAWL_ARGS = settings_args(
    {
        **REPLAY_OVERRIDES,
        "SAHEL_ALLOWED_PRIVATE_HOSTS": [*REPLAY_OVERRIDES["SAHEL_ALLOWED_PRIVATE_HOSTS"], "127.0.0.3"],
        "DOWNLOAD_TIMEOUT": 3,
        "SAHEL_MAX_LINKS_PER_DOCUMENT": LINK_CAP,
    }
)


class FaultCrawl:
    """The servers, the site, the finished crawl and what it stored."""

    def __init__(self, main: FaultServer, robots_down: FaultServer, elsewhere: FaultServer, site: FaultSite,
                 result: Measured, db: Path) -> None:  # fmt: skip
        self.main, self.robots_down, self.elsewhere, self.site, self.result = main, robots_down, elsewhere, site, result
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT url, title, text FROM articles")
            self.articles = {url: (title, text) for url, title, text in rows}
            rows = conn.execute("SELECT url, kind, reason FROM crawl_errors").fetchall()
            self.errors = [row for row in rows if row[1] != "no_text"]
            self.no_text = {url: reason for url, kind, reason in rows if kind == "no_text"}
            cols = ("status", "errors", "no_text", "new_articles")
            row = conn.execute(f"SELECT {', '.join(cols)} FROM crawl_runs").fetchone()
            self.run = dict(zip(cols, row, strict=True))


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultCrawl]:
    tmp = tmp_path_factory.mktemp("faults")
    servers = FaultServer("127.0.0.1"), FaultServer("127.0.0.2"), FaultServer("127.0.0.3")
    with servers[0] as main, servers[1] as robots_down, servers[2] as elsewhere:
        site = build_fault_site(main, robots_down, elsewhere)
        sources = tmp / "sources.yaml"
        sources.write_text(yaml.safe_dump(site.sources, allow_unicode=True))
        db = tmp / "faults.db"
        result = run_measured("crawl", "--sources", str(sources), "--db", f"sqlite:///{db}", *CRAWL_ARGS, timeout=150)
        assert result.returncode == 0, result.stderr[-3000:]
        yield FaultCrawl(main, robots_down, elsewhere, site, result, db)


def test_every_good_article_beside_the_faults_is_stored_intact(crawl: FaultCrawl) -> None:
    missing = [url for url in crawl.site.good if url not in crawl.articles]
    assert not missing, f"lost beside the faults: {missing}"
    for url, phrase in crawl.site.good.items():
        title, text = crawl.articles[url]
        assert phrase in text, f"{url}: text garbled or cut"
        assert "\ufffd" not in text + (title or ""), f"{url}: decoded with the wrong charset"
    faulty = {url for url in crawl.articles if url.startswith(crawl.main.base_url)}
    assert faulty == set(crawl.site.good), "a fault or a page without text was stored"


def test_every_fault_is_recorded_with_its_url_and_a_reason(crawl: FaultCrawl) -> None:
    recorded = {url: (kind, reason) for url, kind, reason in crawl.errors if url != crawl.site.robots_failure}
    wrong = {
        url: recorded.get(url, ("not recorded", ""))[0]
        for url, kinds in crawl.site.failures.items()
        if recorded.get(url, ("",))[0] not in kinds
    }
    assert not wrong, f"faults not recorded as expected: {wrong}"
    assert all(reason.strip() for _, reason in recorded.values())


def test_every_fault_has_a_log_line_naming_the_url_and_the_reason(crawl: FaultCrawl) -> None:
    lines = crawl.result.stderr.splitlines()
    for url, kind, reason in crawl.errors:
        assert any(f"{url} failed ({kind}): {reason[:60]}" in line for line in lines), f"no log line for {url}"
    for url in crawl.site.no_text:
        assert any(f"skipped {url}: no article text" in line for line in lines), f"no log line for {url}"


def test_run_record_counts_every_failure_and_every_page_without_text(crawl: FaultCrawl) -> None:
    assert crawl.run["status"] == "finished"
    assert crawl.run["errors"] == len(crawl.errors)
    assert {url for url, _, _ in crawl.errors} - {crawl.site.robots_failure} == set(crawl.site.failures)
    assert crawl.run["no_text"] == len(crawl.site.no_text)
    assert set(crawl.no_text) == set(crawl.site.no_text)
    assert all(reason.strip() for reason in crawl.no_text.values())


def test_a_control_character_in_a_page_does_not_lose_its_article(crawl: FaultCrawl) -> None:
    for url in crawl.site.with_controls:
        _, text = crawl.articles[url]
        assert "\x1b" not in text and "\x01" not in text
    assert crawl.run["new_articles"] == len(crawl.articles)


def test_internal_and_offsite_targets_are_refused_before_any_connection(crawl: FaultCrawl) -> None:
    reached = [path for path in crawl.site.never_requested if path in crawl.main.paths()]
    assert not reached, f"the crawler connected to this machine through an alias: {reached}"
    assert crawl.elsewhere.paths() == [], "an off-site redirect was followed"
    kinds = {url: kind for url, kind, _ in crawl.errors}
    for slug in ("redirect-to-cloud-metadata-address", "redirect-to-private-network-address"):
        assert kinds[crawl.main.url(DAY + slug)] in REFUSALS  # a download error would mean it tried


@pytest.mark.parametrize(
    ("slug", "limit"),
    [
        ("header-section-without-end", "headers over 65536 bytes"),
        ("header-lines-without-end", "more than 200 header lines"),
    ],
)
def test_an_endless_header_section_fails_that_page_only(crawl: FaultCrawl, slug: str, limit: str) -> None:
    """Only bodies were capped: headers sent without end grew the crawler by gigabytes. The test's
    memory bound (test_memory_stays_bounded_and_telnet_is_off) covers this fault too."""
    reasons = {url: (kind, reason) for url, kind, reason in crawl.errors}
    kind, reason = reasons[crawl.main.url(DAY + slug)]
    assert kind == "too_large" and limit in reason
    assert crawl.main.paths().count(DAY + slug) == 1  # not retried


@pytest.mark.parametrize("target", NON_HTTP_REDIRECTS)
def test_a_redirect_to_another_scheme_is_refused_naming_the_scheme(crawl: FaultCrawl, target: str) -> None:
    scheme = target.partition(":")[0]
    reasons = {url: (kind, reason) for url, kind, reason in crawl.errors}
    kind, reason = reasons[crawl.main.url(f"{DAY}redirect-to-a-{scheme}-url")]
    assert kind == "offsite" and reason.startswith(f"redirect to a {scheme}: URL refused")
    assert target in reason


def test_another_port_of_an_allowed_host_is_refused_as_internal(crawl: FaultCrawl) -> None:
    """SAHEL_ALLOWED_PRIVATE_HOSTS lists 127.0.0.1 bare: only the ports of the registry's URLs on it."""
    reasons = {url: (kind, reason) for url, kind, reason in crawl.errors}
    kind, reason = reasons[crawl.main.url(DAY + "redirect-to-another-port-of-the-allowed-host")]
    main_port = crawl.main.base_url.rsplit(":", 1)[1]
    other_port = crawl.elsewhere.base_url.rsplit(":", 1)[1]
    assert kind == "internal"
    assert (
        f"refused port {other_port} of 127.0.0.1: SAHEL_ALLOWED_PRIVATE_HOSTS allows its ports {main_port} only"
        in reason
    )


def test_a_name_of_this_machine_is_refused_for_the_address_the_connection_would_use(crawl: FaultCrawl) -> None:
    """The machine's host name has no internal spelling: the connection's own lookup refuses its
    answer (no second lookup a rebinding name could answer differently), reported like any
    internal address, with the host and the address."""
    host = socket.gethostname().lower()
    if is_internal_host(host):
        pytest.skip(f"this machine's name {host!r} is refused by its spelling already")
    reasons = {url: (kind, reason) for url, kind, reason in crawl.errors}
    kind, reason = reasons[crawl.main.url(DAY + "redirect-to-this-machine-as-hostname")]
    assert kind == "internal"
    assert f"refused {host}: it resolves to internal address " in reason
    assert f"http://{host}:" in reason  # the URL it was sent to


def test_host_whose_robots_txt_fails_is_not_crawled(crawl: FaultCrawl) -> None:
    """RFC 9309: a robots.txt answering 5xx means "disallow all"; the error is recorded."""
    assert (crawl.site.robots_failure, "robots") in [(url, kind) for url, kind, _ in crawl.errors]
    assert set(crawl.robots_down.paths()) == {"/robots.txt"}
    assert not [url for url in crawl.articles if url.startswith(crawl.robots_down.base_url)]


def test_throttled_and_failing_pages_are_retried_then_stored(crawl: FaultCrawl) -> None:
    paths = crawl.main.paths()
    for slug in ("served-after-one-429-with-retry-after", "served-after-one-503-server-error"):
        assert paths.count(DAY + slug) == 2
        assert crawl.main.url(DAY + slug) in crawl.articles


def test_entities_in_feeds_are_neither_resolved_nor_expanded(crawl: FaultCrawl) -> None:
    for title, text in crawl.articles.values():
        assert "root:" not in (title or "") + text
        assert "lollol" not in (title or "")
        assert "xxxxxxxxxx" not in (title or "") + text


def test_feeds_and_sitemaps_declaring_entities_are_refused_and_recorded(crawl: FaultCrawl) -> None:
    """Wherever the DOCTYPE stands (after a comment holding "<a", past a 70 KB prolog)."""
    reasons = {url: (kind, reason) for url, kind, reason in crawl.errors}
    paths = ["feed-xxe.xml", "feed-billion-laughs.xml"]
    bombs = ("comment-before-doctype", "70-kb-prolog")
    paths += [f"{kind}-bomb-{name}.xml" for kind in ("feed", "sitemap") for name in bombs]
    for path in paths:
        kind, reason = reasons[crawl.main.url(f"/{path}")]
        assert (kind, reason) == (path.split("-")[0], ENTITY_REFUSAL), path


def test_a_feed_and_a_sitemap_over_the_link_cap_are_read_up_to_it_and_the_cut_recorded(crawl: FaultCrawl) -> None:
    reasons = {url: (kind, reason) for url, kind, reason in crawl.errors}
    assert reasons[crawl.main.url("/feed-over-the-link-cap.xml")] == (
        "feed",
        f"truncated at {LINK_CAP} entries (the feed lists more)",
    )
    assert reasons[crawl.main.url("/sitemap-big.xml")] == (
        "sitemap",
        f"truncated at {LINK_CAP} URLs (the sitemap lists more)",
    )


def test_a_stored_title_is_cut_to_its_cap(crawl: FaultCrawl) -> None:
    cap = settings.SAHEL_MAX_TITLE_CHARS
    for url in crawl.site.long_titles:
        title, _ = crawl.articles[url]
        assert title.startswith("Titre Titre") and len(title) <= cap


def test_no_cookie_or_credential_is_ever_sent(crawl: FaultCrawl) -> None:
    hits = crawl.main.hits + crawl.robots_down.hits
    assert not [h.path for h in hits if {"Cookie", "Authorization"} & set(h.headers)]


def test_memory_stays_bounded_and_telnet_is_off(crawl: FaultCrawl) -> None:
    assert crawl.result.peak_rss_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {crawl.result.peak_rss_mb:.0f} MB"
    assert "Telnet console listening" not in crawl.result.stderr
