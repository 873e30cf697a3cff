"""robots.txt as the crawler reads it: a real crawl of a loopback outlet whose robots.txt is
far larger than RFC 9309's 500 KiB."""

from __future__ import annotations

import sqlite3
import time

import pytest

from sahel_crawler.demo import REPLAY_OVERRIDES, settings_args
from tests.faults import FaultServer
from tests.faults import resources as r
from tests.faults.process import run_measured
from tests.faults.site import DAY, article_html
from tests.faults.texts import french_paragraphs

pytestmark = pytest.mark.slow

ARTICLES = 20
ROBOTS_BYTES = 9_500_000


def big_robots_txt() -> bytes:
    """A 9.5 MB robots.txt: a rule at its top, filler rules, and a rule past the first 500 KiB."""
    head = b"User-agent: *\nDisallow: /private/\n"
    line = b"Disallow: /archive/%07d/never-linked-page\n"
    filler = b"".join(line % n for n in range(ROBOTS_BYTES // len(line % 0)))
    return head + filler + b"Disallow: /2026/\n"


def test_a_huge_robots_txt_is_read_up_to_500_kib_and_the_crawl_stays_fast(tmp_path) -> None:
    with FaultServer("127.0.0.1") as server:
        server.add("/robots.txt", r.static(big_robots_txt(), "text/plain"))
        urls = [
            server.add(f"{DAY}article-number-{n}-beside-a-huge-robots-txt",
                       r.static(article_html(f"Article {n}", french_paragraphs(700 + n), "fr").encode()))
            for n in range(ARTICLES)
        ]  # fmt: skip
        private = server.add(f"/private{DAY}an-article-robots-txt-disallows", r.static(b"<p>never</p>"))
        links = "".join(f'<a href="{u}">x</a>' for u in [*urls, private])
        section = server.add("/section/", r.static(f"<html><body>{links}</body></html>".encode()))
        sources = tmp_path / "sources.yaml"
        sources.write_text(f"outlets:\n  big:\n    name: Big robots\n    sections: ['{section}']\n")
        db = tmp_path / "robots.db"
        started = time.monotonic()
        result = run_measured(
            "crawl", "--sources", str(sources), "--db", f"sqlite:///{db}", *settings_args(REPLAY_OVERRIDES),
            timeout=120,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        paths = server.paths()
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(db) as conn:
        stored = {url for (url,) in conn.execute("SELECT url FROM articles")}
    assert stored == set(urls), "the rule past 500 KiB was applied, or articles were lost"
    assert f"/private{DAY}an-article-robots-txt-disallows" not in paths, "the rule at the top was ignored"
    assert paths.count("/robots.txt") == 1
    assert "bytes of robots.txt are read (RFC 9309)" in result.stderr
    assert elapsed < 45, f"the crawl took {elapsed:.0f} s"
