"""Batched writes of the storage stage, lock-free lookups, cached canonical URLs."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from pipelines.store import StoragePipeline, record_from_item, write_article, write_articles
from sahel_crawler.items import ArticleItem
from sahel_crawler.text.urls import UrlRules, canonicalize_url
from storage import repository as repo
from storage.db import open_database, session_factory
from storage.lookups import Lookups
from tests.conftest import project_crawler

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TEXT = "Le Sahel est une région d'Afrique de l'Ouest. " * 10


def article(path: str, **fields: object) -> ArticleItem:
    url = f"https://www.france24.com{path}"
    fields.setdefault("text", TEXT)
    return ArticleItem(url=url, outlet="france24", html="", fetched_at=NOW, canonical_url=url, **fields)  # type: ignore[arg-type]


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoragePipeline]:
    crawler = project_crawler(settings_dict={"SAHEL_DB_URL": f"sqlite:///{tmp_path / 'store.db'}"})
    crawler.stats.open_spider()
    pipeline = StoragePipeline.from_crawler(crawler)
    pipeline.open_spider()
    yield pipeline
    pipeline.spider_closed(None, "finished")  # as at the end of a crawl: the run record, then the engine


def test_without_a_running_reactor_items_are_written_at_once(store: StoragePipeline, tmp_path: Path) -> None:
    item = article("/fr/afrique/20261120-a")
    assert store.process_item(item) is item
    assert query(tmp_path / "store.db", "SELECT url FROM articles") == [(item.url,)]
    assert store.stats.get_value("sahel/new_articles") == 1


def test_a_batch_is_one_transaction_in_arrival_order(store: StoragePipeline, tmp_path: Path) -> None:
    records = [record_from_item(article(f"/fr/afrique/20261120-{n}")) for n in range(5)]
    start = time.thread_time()
    outcomes, cpu_ms = store._write_batch(records)
    spent_ms = (time.thread_time() - start) * 1000
    assert [o.outcome for o in outcomes] == ["new"] * 5  # type: ignore[union-attr]
    assert 0 < cpu_ms <= spent_ms  # this thread's CPU milliseconds, within what the call took
    rows = query(tmp_path / "store.db", "SELECT url FROM articles ORDER BY id")
    assert [r[0] for r in rows] == [r.url for r in records]


def test_a_failing_record_fails_alone_and_is_recorded(store: StoragePipeline, tmp_path: Path) -> None:
    good = [record_from_item(article(f"/fr/afrique/20261120-{n}")) for n in range(3)]
    bad = record_from_item(article("/fr/afrique/20261120-bad"))
    bad.outlet = "no-such-outlet"  # violates the outlets foreign key
    outcomes, _ = store._write_batch([good[0], bad, good[1], good[2]])
    assert isinstance(outcomes[1], Exception)
    assert [o.outcome for o in (outcomes[0], outcomes[2], outcomes[3])] == ["new"] * 3  # type: ignore[union-attr]
    db = tmp_path / "store.db"
    assert sorted(r[0] for r in query(db, "SELECT url FROM articles")) == sorted(r.url for r in good)
    assert query(db, "SELECT url, kind FROM crawl_errors") == [(bad.url, "store")]


def test_a_commit_that_fails_gives_one_outcome_per_record(store: StoragePipeline, tmp_path: Path) -> None:
    # A disk filling up fails a commit after the write itself went through: each record must
    # still get exactly one outcome, or the counts and the failed URLs no longer line up.
    records = [record_from_item(article(f"/fr/afrique/20261120-{n}")) for n in range(3)]
    commits = {"n": 0}

    def fail_the_batch_then_one_record(session: Any) -> None:
        commits["n"] += 1
        if commits["n"] in (1, 3):
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(store.Session, "before_commit", fail_the_batch_then_one_record)
    try:
        outcomes, _ = store._write_batch(records)
    finally:
        event.remove(store.Session, "before_commit", fail_the_batch_then_one_record)
    assert len(outcomes) == len(records)
    assert sum(isinstance(o, Exception) for o in outcomes) == 1
    stored = [r[0] for r in query(tmp_path / "store.db", "SELECT url FROM articles")]
    written = [r.url for r, o in zip(records, outcomes, strict=True) if not isinstance(o, Exception)]
    assert sorted(stored) == sorted(written)


def test_lookups_do_not_wait_for_a_writer_and_see_its_commits(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'lock.db'}")
    lookups = Lookups(engine)
    item = article("/fr/afrique/20261120-seen")
    try:
        with session_factory(engine).begin() as writer:
            writer.execute(text("SELECT 1"))  # now holds SQLite's write lock (BEGIN IMMEDIATE)
            assert lookups.is_stored_url(item.url) is False  # answered at once, no waiting
            repo.ensure_outlets(writer, {"france24": "France 24"})
            write_article(writer, record_from_item(item), None)
        assert lookups.is_stored_url(item.url) is True  # the next lookup sees the commit
        assert lookups.stored_version(item.url).text == TEXT  # type: ignore[union-attr]
    finally:
        lookups.close()
        engine.dispose()


def test_cached_canonical_form_is_the_computed_one() -> None:
    rules = UrlRules(drop_path_suffixes=("/amp",))
    url = "HTTPS://www.France24.com/fr/afrique/x/amp?utm_source=a&b=1"
    first = canonicalize_url(url, rules=rules)
    assert canonicalize_url(url, rules=rules) == first == "https://www.france24.com/fr/afrique/x?b=1"
    assert canonicalize_url(url) == "https://www.france24.com/fr/afrique/x/amp?b=1"  # other rules, other cache
    with pytest.raises(ValueError):
        canonicalize_url("ftp://example.org/", rules=rules)


def _dump(db: Path) -> dict[str, list[tuple]]:
    """Every stored row a user could query, without timestamps set at write time."""
    return {
        "articles": query(
            db,
            "SELECT a.url, a.title, a.text, a.text_hash, d.url, a.first_run_id, a.lexicon_version"
            " FROM articles a LEFT JOIN articles d ON d.id = a.duplicate_of_id ORDER BY a.url",
        ),
        "aliases": query(
            db,
            "SELECT s.url, a.url, s.reason FROM article_aliases s"
            " JOIN articles a ON a.id = s.article_id ORDER BY s.url",
        ),
        "hits": query(
            db,
            "SELECT a.url, h.concept_id, h.form, h.count FROM keyword_hits h"
            " JOIN articles a ON a.id = h.article_id ORDER BY 1, 2",
        ),
        "signatures": query(
            db, "SELECT a.url, s.signature FROM article_signatures s JOIN articles a ON a.id = s.article_id ORDER BY 1"
        ),
        "search": query(
            db, "SELECT a.url, s.search_text FROM article_search s JOIN articles a ON a.id = s.article_id ORDER BY 1"
        ),
    }


def test_a_batch_stores_the_same_rows_as_one_by_one_writes(tmp_path: Path) -> None:
    hit = {"concept": "jnim", "form": "JNIM", "count": 2, "first_offset": 3, "snippet": "… JNIM …"}
    stored_first = article("/fr/afrique/old", title="Old", aliases=["https://www.france24.com/fr/old-alias"])
    batch = [
        article(
            "/fr/afrique/a", aliases=["https://www.france24.com/fr/a?x=1"], keyword_hits=[hit], lexicon_version="v1"
        ),
        article("/fr/afrique/b", duplicate_of="https://www.france24.com/fr/afrique/a"),  # original in this batch
        article("/fr/afrique/c", duplicate_of="https://www.france24.com/fr/old-alias"),  # stored, by its alias
        article("/fr/afrique/old", title="Old, updated", text=TEXT + " Mise à jour."),  # stored: an update
        article("/fr/afrique/a", keyword_hits=[hit], lexicon_version="v1"),  # repeated in the batch: unchanged
        article(
            "/fr/afrique/d", aliases=["https://www.france24.com/fr/a?x=1", "https://www.france24.com/fr/old-alias"]
        ),
        article("/fr/afrique/e", text="Un autre texte. " * 20, minhash=b"\x01\x02"),
    ]
    dumps, outcomes = [], []
    for mode in ("one_by_one", "batch"):
        db = tmp_path / f"{mode}.db"
        engine = open_database(f"sqlite:///{db}")
        try:
            with session_factory(engine).begin() as session:
                repo.ensure_outlets(session, {"france24": "France 24"})
                write_article(session, record_from_item(stored_first), None)
            with session_factory(engine).begin() as session:
                records = [record_from_item(item) for item in batch]
                if mode == "batch":
                    results = write_articles(session, records, None)
                else:
                    results = [write_article(session, record, None) for record in records]
            outcomes.append([r.outcome for r in results])
        finally:
            engine.dispose()
        dumps.append(_dump(db))
    assert outcomes[0] == outcomes[1] == ["new", "new", "new", "updated", "unchanged", "new", "new"]
    assert dumps[0] == dumps[1]
    assert ("https://www.france24.com/fr/afrique/b", "https://www.france24.com/fr/afrique/a") in [
        (row[0], row[4]) for row in dumps[1]["articles"]
    ]
