"""Source health: silent outlets, suddenly shorter texts, last success and error rate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from storage import repository as repo
from storage.db import open_database, session_factory
from storage.health import HealthThresholds, OutletHealth, outlet_health
from storage.models import CrawlRun

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _article(session: Session, outlet: str, n: int, chars: int, fetched: datetime) -> None:
    text = ("word " * chars)[:chars]
    repo.save_article(session, repo.ArticleRecord(url=f"https://{outlet}.test/{n}", outlet=outlet, text=text,
                                                  fetched_at=fetched))  # fmt: skip


def _run(session: Session, outlets: str, status: str, started: datetime) -> None:
    finished = started + timedelta(minutes=5)
    session.add(CrawlRun(outlets=outlets, status=status, started_at=started, finished_at=finished))


def _fill(db_url: str, now: datetime) -> None:
    """steady: fine; quiet: nothing new for two days; shrunk: its last 5 texts a tenth of the usual."""
    with session_factory(open_database(db_url)).begin() as session:
        repo.ensure_outlets(session, {"steady": "Steady", "quiet": "Quiet", "shrunk": "Shrunk"})
        for i in range(20):
            _article(session, "steady", i, 2000 + 10 * i, now - timedelta(hours=40 - 2 * i))
            _article(session, "quiet", i, 2000, now - timedelta(days=5, hours=i))
            _article(session, "shrunk", i, 3000, now - timedelta(hours=60 - i))
        for i in range(5):
            _article(session, "shrunk", 100 + i, 300, now - timedelta(hours=5 - i))
        _run(session, "steady,quiet,shrunk", "finished", now - timedelta(hours=30))
        _run(session, "steady,shrunk", "finished", now - timedelta(hours=3))
        _run(session, "steady", "failed", now - timedelta(hours=2))
        _run(session, "quiet", "failed", now - timedelta(hours=1))


@pytest.fixture()
def report(tmp_path: Path) -> dict[str, OutletHealth]:
    db_url = f"sqlite:///{tmp_path}/sahel.db"
    _fill(db_url, NOW)
    with session_factory(open_database(db_url))() as session:
        return {h.outlet: h for h in outlet_health(session, now=NOW)}


def test_an_outlet_that_produced_nothing_for_longer_than_the_threshold_is_flagged_silent(report: dict) -> None:
    assert report["quiet"].flags == ["silent"]
    assert report["quiet"].articles_in_window == 0
    assert "silent" not in report["steady"].flags


def test_suddenly_shorter_texts_are_flagged_as_a_possible_markup_change(report: dict) -> None:
    assert report["shrunk"].flags == ["shrinking"]
    assert (report["shrunk"].recent_median_chars, report["shrunk"].baseline_median_chars) == (300, 3000)
    assert report["steady"].flags == []


def test_last_successful_crawl_counts_and_error_rate(report: dict) -> None:
    steady, quiet = report["steady"], report["quiet"]
    assert steady.last_success == NOW - timedelta(hours=3) + timedelta(minutes=5)
    assert quiet.last_success == NOW - timedelta(hours=30) + timedelta(minutes=5)
    assert steady.articles_in_window == 12  # fetched 40 h .. 2 h ago, every 2 h: 12 inside 24 h
    assert (steady.runs_in_window, steady.failed_runs_in_window, steady.error_rate) == (2, 1, 0.5)
    assert quiet.error_rate == 1.0


def test_thresholds_are_configurable(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/sahel.db"
    _fill(db_url, NOW)
    lenient = HealthThresholds(silent_after=timedelta(days=7), shrink_ratio=0.05)
    with session_factory(open_database(db_url))() as session:
        assert all(not h.flags for h in outlet_health(session, now=NOW, thresholds=lenient))


def test_outlet_ids_with_underscores_match_only_their_own_runs(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/sahel.db"
    with session_factory(open_database(db_url)).begin() as session:
        repo.ensure_outlets(session, {"a_b": "A B", "axb": "AXB"})
        _run(session, "axb", "finished", NOW - timedelta(hours=1))
    with session_factory(open_database(db_url))() as session:
        by_id = {h.outlet: h for h in outlet_health(session, now=NOW)}
    assert by_id["a_b"].last_success is None
    assert by_id["axb"].last_success is not None


def test_health_command_reports_flags(tmp_path: Path) -> None:
    import sahel_crawler.cli  # noqa: F401  (the command modules use its helpers)
    from sahel_crawler.commands.health import health

    db_url = f"sqlite:///{tmp_path}/sahel.db"
    _fill(db_url, datetime.now(UTC))
    result = CliRunner().invoke(health, ["--db", db_url, "--json"])
    assert result.exit_code == 0, result.output
    flags = {r["outlet"]: r["flags"] for r in map(json.loads, result.output.splitlines())}
    assert flags == {"quiet": ["silent"], "shrunk": ["shrinking"], "steady": []}
    table = CliRunner().invoke(health, ["--db", db_url, "--silent-after", "200"])
    assert table.exit_code == 0
    assert "quiet" in table.output and "silent" not in table.output


def test_pages_without_text_are_not_counted_as_page_errors(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/sahel.db"
    with session_factory(open_database(db_url)).begin() as session:
        repo.ensure_outlets(session, {"steady": "Steady"})
        run = CrawlRun(outlets="steady", status="finished", started_at=NOW - timedelta(hours=1))
        session.add(run)
        session.flush()
        for kind in ("no_text", "no_text", "http"):
            repo.record_error(
                session, run.id, url=f"https://steady.test/{kind}", kind=kind, reason="r", outlet="steady"
            )
    with session_factory(open_database(db_url))() as session:
        (steady,) = outlet_health(session, now=NOW)
    assert steady.page_errors_in_window == 1
