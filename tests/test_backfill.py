"""`sahel backfill`: archive sitemaps, WARC files and the Wayback Machine, through the crawl's
pipeline, resumable by month; against the loopback archive replay and WARC files made here."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from sahel_crawler.backfill.months import month_in_url, months_between
from sahel_crawler.replay import ReplayServer
from sahel_crawler.replay.archive import Capture, WaybackReplay, replay_captures, write_warc
from storage.backfill import BackfillMonth
from storage.db import open_database, session_factory
from storage.models import Article, CrawlError, CrawlRun
from tests.conftest import CliResult, run_sahel

pytestmark = pytest.mark.slow

PERIOD = ("--since", "2026-09-01", "--until", "2026-10-31")
LOOPBACK = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "SAHEL_PROGRESS_INTERVAL=0")


def backfill(sources: Path, db_url: str, *args: str, allowed: str = "127.0.0.1,127.0.0.2") -> CliResult:
    return run_sahel(
        "backfill", "--sources", str(sources), "--db", db_url, *PERIOD, *LOOPBACK,
        "-s", f"SAHEL_ALLOWED_PRIVATE_HOSTS={allowed}", *args,
    )  # fmt: skip


def stored(db_url: str) -> dict[str, Article]:
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        articles = {a.url: a for a in session.scalars(select(Article))}
        for article in articles.values():
            _ = article.duplicate_of  # loaded while the session is open
    engine.dispose()
    return articles


def rows(db_url: str, model: type) -> list:
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        found = list(session.scalars(select(model)))
    engine.dispose()
    return found


def expected(replay: ReplayServer, outlets: set[str]) -> dict[str, datetime]:
    return {a.url: a.published_at for a in replay.expected_articles() if a.outlet in outlets and a.stored}


def requested_paths(replay: ReplayServer) -> list[str]:
    return [unquote(r.path) for r in replay.requests]


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'backfill.db'}"


# -- WARC files ---------------------------------------------------------------------------------


def test_warc_backfill_stores_each_article_once_with_its_date_and_a_second_run_adds_nothing(
    archive_replay: ReplayServer, archive_sources: Path, db_url: str, tmp_path: Path
) -> None:
    captures = replay_captures(archive_replay.built, ["france24", "meo"])
    # CC-NEWS holds every news site, and captures of all kinds: only the registry's HTML pages count
    foreign = Capture("https://news.example.org/2026/09/10/story", datetime(2026, 9, 10, tzinfo=UTC), b"<p>x</p>")
    missing = Capture(captures[0].url + "-gone", captures[0].captured_at, b"gone", status=404)
    image = Capture(captures[0].url + ".jpg", captures[0].captured_at, b"\xff\xd8", content_type="image/jpeg")
    # the syndicated copy before its original: the original must still be the one kept
    copies = {a.url for a in archive_replay.expected_articles() if a.duplicate_of}
    captures.sort(key=lambda c: c.url not in copies)
    warc = write_warc(tmp_path / "CC-NEWS-20260930.warc.gz", [foreign, missing, image, *captures])
    archive_replay.reset_requests()

    first = backfill(
        archive_sources, db_url, "--outlet", "france24", "--outlet", "meo", "--source", "warc", "--warc", str(warc)
    )

    assert first.returncode == 0, first.stderr[-3000:]
    articles = stored(db_url)
    want = expected(archive_replay, {"france24", "meo"})
    assert set(articles) == set(want)
    assert {url: a.published_at for url, a in articles.items()} == want
    captured = {c.url: c.captured_at for c in captures}
    assert all(a.fetched_at == captured[url] for url, a in articles.items())  # the capture time is kept
    originals = {a.url: a.duplicate_of for a in archive_replay.expected_articles() if a.duplicate_of}
    assert originals and {url: articles[url].duplicate_of.url for url in originals} == originals
    assert archive_replay.requests == []  # read from the file: nothing was downloaded
    assert {(m.outlet_id, m.month) for m in rows(db_url, BackfillMonth)} == {
        ("france24", "2026-09"), ("france24", "2026-10"), ("meo", "2026-09"), ("meo", "2026-10"),
    }  # fmt: skip

    second = backfill(
        archive_sources, db_url, "--outlet", "france24", "--outlet", "meo", "--source", "warc", "--warc", str(warc)
    )

    assert second.returncode == 0, second.stderr[-3000:]
    assert "new 0" in second.stdout
    assert "finished by an earlier backfill, not read again" in second.stderr
    assert len(stored(db_url)) == len(want)


@pytest.mark.parametrize(("damage", "reason"), [("garbage", "not a readable WARC file"), ("cut", "incomplete record")])
def test_an_unreadable_warc_file_is_a_recorded_error_and_the_other_files_are_read(
    archive_replay: ReplayServer, archive_sources: Path, db_url: str, tmp_path: Path, damage: str, reason: str
) -> None:
    good = write_warc(tmp_path / "good.warc.gz", replay_captures(archive_replay.built, ["meo"]))
    broken = tmp_path / "broken.warc.gz"
    if damage == "garbage":
        broken.write_bytes(b"WARC/1.0\r\nthis is no WARC record\r\n" * 20)
    else:  # a download cut short in the middle of a record
        whole = write_warc(tmp_path / "whole.warc.gz", replay_captures(archive_replay.built, ["meo"])).read_bytes()
        broken.write_bytes(whole[: len(whole) * 2 // 3])

    result = backfill(
        archive_sources, db_url, "--outlet", "meo", "--source", "warc", "--warc", str(broken), "--warc", str(good)
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert set(stored(db_url)) == set(expected(archive_replay, {"meo"}))
    errors = rows(db_url, CrawlError)
    assert [(e.url, e.kind) for e in errors] == [(str(broken), "warc")]
    assert reason in errors[0].reason
    assert f"{broken} failed (warc)" in result.stderr
    # the broken file's months stay unfinished; the good file's are done
    assert {m.source for m in rows(db_url, BackfillMonth)} == {"warc:good.warc.gz"}


def test_a_backfill_given_its_own_extensions_setting_still_keeps_its_ledger(
    archive_replay: ReplayServer, archive_sources: Path, db_url: str, tmp_path: Path
) -> None:
    warc = write_warc(tmp_path / "meo.warc.gz", replay_captures(archive_replay.built, ["meo"]))
    extensions = '{"scrapy.extensions.closespider.CloseSpider": 0}'

    result = backfill(
        archive_sources,
        db_url,
        "--outlet",
        "meo",
        "--source",
        "warc",
        "--warc",
        str(warc),
        "-s",
        f"EXTENSIONS={extensions}",
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(m.month for m in rows(db_url, BackfillMonth)) == ["2026-09", "2026-10"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--outlet", "meo", "--source", "warc"), "--source warc reads the files given with --warc"),
        (("--outlet", "meo", "--source", "warc", "--warc", "/nonexistent/*.warc.gz"), "no WARC file at /nonexistent"),
        (("--outlet", "meo"), "outlet meo lists no archive_sitemaps"),
        (("--outlet", "nosuch"), "unknown outlet nosuch"),
    ],
)
def test_unusable_backfill_arguments_exit_2_with_one_line(archive_sources: Path, db_url: str, args, message) -> None:
    result = backfill(archive_sources, db_url, *args)

    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# -- archive sitemaps -----------------------------------------------------------------------------


def test_sitemap_backfill_reads_the_months_of_the_period_once(
    archive_replay: ReplayServer, archive_sources: Path, db_url: str
) -> None:
    archive_replay.reset_requests()

    first = backfill(archive_sources, db_url, "--outlet", "france24")

    assert first.returncode == 0, first.stderr[-3000:]
    want = expected(archive_replay, {"france24"})
    assert {url: a.published_at for url, a in stored(db_url).items()} == want
    paths = requested_paths(archive_replay)
    assert "/sitemaps/fr/contents_202609.xml" in paths and "/sitemaps/fr/contents_202610.xml" in paths
    assert "/sitemaps/fr/contents_202608.xml" not in paths  # before the period
    assert sorted(m.month for m in rows(db_url, BackfillMonth)) == ["2026-09", "2026-10"]
    assert f"new {len(want)}," in first.stdout

    archive_replay.reset_requests()
    second = backfill(archive_sources, db_url, "--outlet", "france24")

    assert second.returncode == 0, second.stderr[-3000:]
    assert archive_replay.requests == []  # every month finished: not even the index is read
    assert "new 0" in second.stdout


def test_an_interrupted_sitemap_backfill_resumes_where_it_stopped(
    archive_replay: ReplayServer, archive_sources: Path, db_url: str
) -> None:
    archive_replay.reset_requests()
    want = expected(archive_replay, {"france24"})

    # stopped after 5 stored articles, each committed alone, the pages coming one by one
    one_by_one = ("-s", "SAHEL_STORE_BATCH_SIZE=1", "-s", "CONCURRENT_REQUESTS=1", "-s", "DOWNLOAD_DELAY=0.3")
    first = backfill(
        archive_sources, db_url, "--outlet", "france24", "-s", "CLOSESPIDER_ITEMCOUNT=5", *one_by_one,
        "-s", "SAHEL_PROGRESS_INTERVAL=0.5",
    )  # fmt: skip

    assert first.returncode == 0, first.stderr[-3000:]
    # not on a terminal: plain log lines with the months, the listed articles, the rate, the time left
    assert re.search(r"progress: months [0-2]/2, listed \d+, pages \d+, .*articles/s, left", first.stderr)
    after_first = set(stored(db_url))
    assert 5 <= len(after_first) < len(want)
    assert rows(db_url, BackfillMonth) == []  # cut short: no month is finished

    second = backfill(archive_sources, db_url, "--outlet", "france24")

    assert second.returncode == 0, second.stderr[-3000:]
    assert set(stored(db_url)) == set(want)
    runs = rows(db_url, CrawlRun)
    assert runs[-1].skipped_seen == len(after_first)  # stored ones skipped before any download
    assert runs[-1].new_articles == len(want) - len(after_first)
    article_paths = [p for p in requested_paths(archive_replay) if not p.startswith(("/sitemaps/", "/robots"))]
    assert len(article_paths) == len(set(article_paths)) == len(want)  # no article downloaded twice
    assert sorted(m.month for m in rows(db_url, BackfillMonth)) == ["2026-09", "2026-10"]


# -- the Wayback Machine ----------------------------------------------------------------------------


def test_wayback_backfill_stores_captures_under_the_original_url_with_the_capture_time(
    archive_replay: ReplayServer, archive_sources: Path, db_url: str
) -> None:
    captures = replay_captures(archive_replay.built, ["meo"], delay=timedelta(hours=2))
    archive_replay.reset_requests()
    with WaybackReplay(captures) as wayback:
        result = backfill(
            archive_sources, db_url, "--outlet", "meo", "--source", "wayback",
            "-s", f"SAHEL_WAYBACK_URL={wayback.url}", "-s", "SAHEL_WAYBACK_DELAY=0",
            allowed=f"127.0.0.1,127.0.0.2,{wayback.host_port}",
        )  # fmt: skip

    assert result.returncode == 0, result.stderr[-3000:]
    articles = stored(db_url)
    assert {url: a.published_at for url, a in articles.items()} == expected(archive_replay, {"meo"})
    captured = {c.url: c.captured_at for c in captures}
    assert all(a.fetched_at == captured[url] for url, a in articles.items())
    assert all("Wayback Machine banner" not in a.text for a in articles.values())
    assert all("id_/" in p for p in wayback.requests if p.startswith("/web/"))
    # the outlet's own server was asked for nothing: every page came from the archive
    assert [r for r in archive_replay.requests if r.outlet == "meo" and not r.path.startswith("/robots")] == []
    assert sorted(m.month for m in rows(db_url, BackfillMonth)) == ["2026-09", "2026-10"]


# -- months -----------------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))


@given(moments, st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=900)))
def test_the_months_of_a_period_are_every_month_it_touches(since: datetime, length: timedelta) -> None:
    until = since + length
    months = months_between(since, until)

    assert months[0] == f"{since:%Y-%m}"
    assert months[-1] == f"{until - timedelta(microseconds=1):%Y-%m}"
    assert months == sorted(set(months))
    firsts = [datetime(int(m[:4]), int(m[5:]), 1, tzinfo=UTC) for m in months]
    assert all((b - a).days in (28, 29, 30, 31) for a, b in pairwise(firsts))


@pytest.mark.parametrize(
    ("url", "month"),
    [
        ("https://www.france24.com/sitemaps/fr/contents_202609.xml", "2026-09"),
        ("https://www.lemonde.fr/sitemap/articles/2019-03.xml", "2019-03"),
        ("https://example.com/archive/2024/11/sitemap.xml", "2024-11"),
        ("https://www.france24.com/sitemaps/fr/index.xml", None),
    ],
)
def test_the_month_of_an_archive_sitemap_is_read_from_its_name(url: str, month: str | None) -> None:
    assert month_in_url(url) == month
