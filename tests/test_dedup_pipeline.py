"""The duplicate stage against a real SQLite database, with the storage stage behind it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy import signals

from pipelines.dedup import DedupPipeline, ExactDuplicate
from pipelines.store import StoragePipeline
from sahel_crawler.items import ArticleItem
from sahel_crawler.replay.stories import load_stories
from tests.conftest import project_crawler

STORIES = {s.id: s for s in load_stories()}
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def body(story_id: str) -> str:
    return "\n\n".join(STORIES[story_id].paragraphs)


ORIGINAL, COPY = body("ar-tuareg-civilians"), body("meo-ar-tuareg-syndicated")  # a rewritten lead


def article(path: str, text: str, *, outlet: str = "france24", hours_ago: float = 1, **fields) -> ArticleItem:
    url = f"https://{'www.france24.com' if outlet == 'france24' else 'middle-east-online.com'}{path}"
    return ArticleItem(
        url=url, outlet=outlet, html="", fetched_at=NOW, canonical_url=url, text=text,
        title=fields.pop("title", path), published_at=NOW - timedelta(hours=hours_ago), **fields,
    )  # fmt: skip


@dataclass
class Crawl:
    """One crawl's dedup and storage stages, fed item by item as Scrapy's scraper would."""

    crawler: object
    dedup: DedupPipeline
    store: StoragePipeline
    closed: bool = False

    def feed(self, item: ArticleItem) -> str:
        """Pass the item through both stages; 'stored' or 'dropped'."""
        try:
            self.dedup.process_item(item)
        except ExactDuplicate as exc:
            self.crawler.signals.send_catch_log(signals.item_dropped, item=item, response=None, exception=exc)
            return "dropped"
        self.store.process_item(item)
        self.crawler.signals.send_catch_log(signals.item_scraped, item=item, response=None)
        return "stored"

    def stat(self, name: str) -> int:
        return self.crawler.stats.get_value(f"sahel/{name}", 0)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.dedup.close_spider()
            self.crawler.signals.send_catch_log(signals.spider_closed, spider=None, reason="finished")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "dedup.db"


@pytest.fixture
def start_crawl(db: Path) -> Iterator:
    started: list[Crawl] = []

    def start(**settings: object) -> Crawl:
        crawler = project_crawler(settings_dict={"SAHEL_DB_URL": f"sqlite:///{db}", **settings})
        crawler.stats.open_spider()
        crawl = Crawl(crawler, DedupPipeline.from_crawler(crawler), StoragePipeline.from_crawler(crawler))
        crawl.store.open_spider()
        crawl.dedup.open_spider()
        started.append(crawl)
        return crawl

    yield start
    for crawl in started:
        crawl.close()


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def duplicate_of(db: Path) -> dict[str, str | None]:
    rows = query(db, "SELECT a.url, o.url FROM articles a LEFT JOIN articles o ON o.id = a.duplicate_of_id")
    return {url.rsplit("/", 1)[1]: (orig.rsplit("/", 1)[1] if orig else None) for url, orig in rows}


def test_every_item_gets_a_text_hash_and_a_signature(start_crawl, db: Path) -> None:
    crawl = start_crawl()
    item = article("/fr/afrique/20261120-kidal", body("fr-kidal-fla"))
    assert crawl.feed(item) == "stored"
    assert item.text_hash and len(item.text_hash) == 64
    assert item.minhash
    assert query(db, "SELECT text_hash FROM articles") == [(item.text_hash,)]
    assert query(db, "SELECT count(*) FROM article_signatures") == [(1,)]


def test_exact_copy_in_the_same_crawl_becomes_an_alias(start_crawl, db: Path) -> None:
    crawl = start_crawl()
    assert crawl.feed(article("/fr/afrique/20261120-kidal", body("fr-kidal-fla"))) == "stored"
    assert crawl.dedup._run_hashes == {}, "once committed, the database remembers it, not memory"
    # the same words with other spacing and punctuation, under another section
    copy = article("/fr/france/20261120-kidal", body("fr-kidal-fla").replace(",", " ,").upper(),
                   aliases=["https://www.france24.com/fr/france/20261120-kidal?page=1"])  # fmt: skip
    assert crawl.feed(copy) == "dropped"
    assert query(db, "SELECT url FROM articles") == [("https://www.france24.com/fr/afrique/20261120-kidal",)]
    assert sorted(query(db, "SELECT url, reason FROM article_aliases")) == [
        ("https://www.france24.com/fr/france/20261120-kidal", "exact_duplicate"),
        ("https://www.france24.com/fr/france/20261120-kidal?page=1", "exact_duplicate"),
    ]
    assert crawl.stat("exact_duplicates") == 1


def test_exact_copy_found_in_the_database_by_a_later_crawl(start_crawl, db: Path) -> None:
    first = start_crawl()
    first.feed(article("/fr/afrique/20261120-kidal", body("fr-kidal-fla")))
    first.close()
    later = start_crawl()
    assert later.feed(article("/fr-kidal-copy-on-meo", body("fr-kidal-fla"), outlet="meo")) == "dropped"
    assert later.stat("exact_duplicates") == 1
    assert query(db, "SELECT count(*) FROM articles") == [(1,)]
    assert query(db, "SELECT reason FROM article_aliases") == [("exact_duplicate",)]


def test_bodies_without_words_are_never_exact_duplicates(start_crawl, db: Path) -> None:
    crawl = start_crawl()
    for path in ("/fr/a/20261120-one", "/fr/a/20261120-two"):
        item = article(path, "… — …")
        assert crawl.feed(item) == "stored"
        assert item.text_hash is None and item.duplicate_of is None
    assert crawl.stat("exact_duplicates") == 0


def test_syndicated_copy_points_to_the_original(start_crawl, db: Path) -> None:
    crawl = start_crawl()
    crawl.feed(article("/ar/20261120-tuareg", ORIGINAL, hours_ago=11))
    crawl.feed(article("/fr/afrique/20261120-kidal", body("fr-kidal-fla")))
    copy = article("/tuareg-copy", COPY, outlet="meo", hours_ago=7)
    assert crawl.feed(copy) == "stored"
    assert copy.duplicate_of == "https://www.france24.com/ar/20261120-tuareg"
    assert duplicate_of(db) == {"20261120-tuareg": None, "20261120-kidal": None, "tuareg-copy": "20261120-tuareg"}
    assert crawl.stat("near_duplicates") == 1


def test_original_fetched_after_its_copy_becomes_the_original(start_crawl, db: Path) -> None:
    crawl = start_crawl()
    crawl.feed(article("/tuareg-copy", COPY, outlet="meo", hours_ago=7))
    crawl.feed(article("/ar/20261120-tuareg", ORIGINAL, hours_ago=11))  # published first
    third = article("/en/tuareg-third-copy", COPY + "\n\nAFP", outlet="meo", hours_ago=5)
    crawl.feed(third)
    assert duplicate_of(db) == {
        "tuareg-copy": "20261120-tuareg", "20261120-tuareg": None, "tuareg-third-copy": "20261120-tuareg",
    }  # fmt: skip
    assert third.duplicate_of == "https://www.france24.com/ar/20261120-tuareg"
    assert crawl.stat("near_duplicates") == 2


def test_a_match_on_a_duplicate_resolves_to_the_original(start_crawl, db: Path) -> None:
    first = start_crawl()
    first.feed(article("/ar/20261120-tuareg", ORIGINAL, hours_ago=11))
    first.feed(article("/tuareg-copy", COPY, outlet="meo", hours_ago=7))
    first.close()
    # The original's signature has left the window; its copy's has not.
    original_id = query(db, "SELECT id FROM articles WHERE duplicate_of_id IS NULL")[0][0]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE article_signatures SET created_at = '2000-01-01' WHERE article_id = ?", (original_id,))
    later = start_crawl()
    assert len(later.dedup.index) == 1
    again = article("/tuareg-copy-again", COPY + "\n\nReuters", outlet="meo", hours_ago=2)
    later.feed(again)
    assert again.duplicate_of == "https://www.france24.com/ar/20261120-tuareg"


def test_signatures_outside_the_window_are_not_loaded(start_crawl, db: Path) -> None:
    first = start_crawl()
    first.feed(article("/ar/20261120-tuareg", ORIGINAL, hours_ago=11))
    first.feed(article("/fr/afrique/20261120-kidal", body("fr-kidal-fla")))
    first.close()
    with sqlite3.connect(db) as conn:
        forty_days_ago = (datetime.now(UTC) - timedelta(days=40)).replace(tzinfo=None).isoformat(" ")
        conn.execute("UPDATE article_signatures SET created_at = ?", (forty_days_ago,))
    assert len(start_crawl(SAHEL_DEDUP_WINDOW_DAYS=30).dedup.index) == 0
    assert len(start_crawl(SAHEL_DEDUP_WINDOW_DAYS=30_000).dedup.index) == 2
    assert len(start_crawl(SAHEL_DEDUP_WINDOW_DAYS=30_000, SAHEL_DEDUP_MAX_ITEMS=1).dedup.index) == 1


def test_refetched_article_is_an_update_and_keeps_its_previous_version(start_crawl, db: Path) -> None:
    first = start_crawl()
    first.feed(article("/fr/afrique/20261120-kidal", body("fr-kidal-fla"), title="Kidal"))
    first.close()
    refresh = start_crawl(SAHEL_REFRESH=True)
    unchanged = article("/fr/afrique/20261120-kidal", body("fr-kidal-fla"), title="Kidal")
    assert refresh.feed(unchanged) == "stored"
    text = body("fr-kidal-fla") + "\n\nCorrection."
    corrected = article("/fr/afrique/20261120-kidal", text, title="Kidal (mis à jour)")
    assert refresh.feed(corrected) == "stored"
    assert query(db, "SELECT title FROM articles") == [("Kidal (mis à jour)",)]
    assert query(db, "SELECT title, text FROM article_revisions") == [("Kidal", body("fr-kidal-fla"))]
    assert (refresh.stat("updated_articles"), refresh.stat("exact_duplicates"), refresh.stat("near_duplicates")) == (
        1, 0, 0,
    )  # fmt: skip


def test_disabled_stage_is_not_configured() -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        DedupPipeline.from_crawler(project_crawler(settings_dict={"SAHEL_DEDUP_ENABLED": False}))
