"""The storage layer behaves the same on SQLite and on PostgreSQL: upserts, aliases, keyword
hits, exports with filters, digests' claims and health.

Also home of the helpers the other database tests share: `throwaway_database` (a fresh SQLite
file or a fresh PostgreSQL database, dropped afterwards) and `sample_articles`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from storage import repository as repo
from storage.db import open_database, session_factory
from storage.digests import claim_email
from storage.health import outlet_health
from storage.models import Article, ArticleAlias, KeywordHit, Outlet

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
DAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@contextmanager
def throwaway_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a new, empty database of `backend`, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    server = make_url(request.getfixturevalue("postgres_url"))
    name = f"sahel_t7_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def hit(concept: str, form: str, count: int = 1) -> dict[str, object]:
    return {"concept": concept, "form": form, "count": count, "first_offset": 0, "snippet": form}


def sample_articles() -> list[repo.ArticleRecord]:
    """A small corpus: three outlets, three languages, one story carried twice."""
    return [
        repo.ArticleRecord(
            url="https://f24.example/ar/1",
            outlet="france24",
            title="مقتل مدنيين في أَزَوَاد",
            text="قالت الحركة الوطنية لتحرير أَزَوَاد إن الهجوم وقع قرب كيدال.",
            fetched_at=DAY,
            published_at=DAY - timedelta(hours=2),
            language="ar",
            keyword_hits=[hit("azawad", "أَزَوَاد", 2), hit("kidal", "كيدال")],
            lexicon_version="v1",
        ),
        repo.ArticleRecord(
            url="https://meo.example/ar/2",
            outlet="meo",
            title="هجوم في شمال مالي",
            text="أعلنت حركة إنقاذ بأزواد أنها صدت هجوما، بحسب بيان نشر في باماكو.",
            fetched_at=DAY + timedelta(days=1),
            published_at=DAY + timedelta(days=1),
            language="ar",
            keyword_hits=[hit("azawad", "بأزواد"), hit("mali", "مالي")],
            lexicon_version="v1",
        ),
        repo.ArticleRecord(
            url="https://f24.example/fr/3",
            outlet="france24",
            title="Mali : attaque près de Ménaka",
            text="Le Front de libération de l'Azawad revendique une attaque près de Ménaka, au Mali.",
            fetched_at=DAY,
            published_at=DAY - timedelta(days=3),
            language="fr",
            keyword_hits=[hit("azawad", "Azawad"), hit("mali", "Mali", 2)],
            lexicon_version="v1",
        ),
        repo.ArticleRecord(
            url="https://meo.example/fr/4",
            outlet="meo",
            title="Mali : attaque près de Ménaka (reprise)",
            text="Le Front de libération de l'Azawad revendique une attaque près de Ménaka, au Mali. Repris.",
            fetched_at=DAY,
            published_at=DAY - timedelta(days=3) + timedelta(hours=1),
            language="fr",
            duplicate_of_url="https://f24.example/fr/3",
            keyword_hits=[hit("azawad", "Azawad"), hit("mali", "Mali")],
            lexicon_version="v1",
        ),
        repo.ArticleRecord(
            url="https://bbc.example/en/5",
            outlet="bbc",
            title="Niger junta meets Chinese oil firm",
            text="Talks in Niamey covered the pipeline to Benin; no mention of the north.",
            fetched_at=DAY,
            published_at=None,
            language="en",
            keyword_hits=[hit("niger", "Niger")],
            lexicon_version="v1",
        ),
    ]


def fill(db_url: str, records: list[repo.ArticleRecord] | None = None) -> None:
    """Store `records` (default: the sample corpus) through the repository."""
    engine = open_database(db_url)
    with session_factory(engine).begin() as session:
        repo.ensure_outlets(session, {"france24": "France 24", "meo": "Middle East Online", "bbc": "BBC"})
        for record in records if records is not None else sample_articles():
            repo.save_article(session, record)
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with throwaway_database(request.param, tmp_path, request) as url:
        yield url


def test_save_article_is_an_idempotent_upsert(db_url: str) -> None:
    fill(db_url)
    record = sample_articles()[0]
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        assert repo.save_article(session, record).outcome == "unchanged"
        record.text += " تحديث"
        record.aliases = ["https://f24.example/ar/1?xtor=RSS", "https://f24.example/ar/1"]
        assert repo.save_article(session, record).outcome == "updated"
    with factory() as session:
        article = session.scalar(select(Article).where(Article.url == record.url))
        assert article is not None and article.text.endswith("تحديث") and article.updated_at is not None
        assert [a.url for a in session.scalars(select(ArticleAlias))] == ["https://f24.example/ar/1?xtor=RSS"]
        assert repo.article_id_for_url(session, "https://f24.example/ar/1?xtor=RSS") == article.id
        assert repo.count_articles(session) == 5
    engine.dispose()


def test_outlets_are_added_renamed_and_a_concurrent_insert_is_absorbed(db_url: str) -> None:
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        repo.ensure_outlets(session, {"meo": "MEO"})
    with factory.begin() as session:
        repo.ensure_outlets(session, {"meo": "Middle East Online", "bbc": "BBC"})
    first = factory()
    first.begin()
    repo.ensure_outlets(first, {"france24": "France 24"})  # not committed yet

    def second() -> None:
        with factory.begin() as session:
            repo.ensure_outlets(session, {"france24": "France 24", "rfi": "RFI"})

    with ThreadPoolExecutor(1) as pool:
        later = pool.submit(second)
        time.sleep(0.3)
        assert not later.done()  # waits for the first transaction's row (or SQLite's write lock)
        first.commit()
        later.result(timeout=30)  # the row the first inserted is skipped, not an error
    first.close()
    with factory() as session:
        assert dict(session.execute(select(Outlet.id, Outlet.name)).all()) == {
            "bbc": "BBC",
            "france24": "France 24",
            "meo": "Middle East Online",
            "rfi": "RFI",
        }
    engine.dispose()


def test_keyword_hits_are_replaced_and_duplicates_linked(db_url: str) -> None:
    fill(db_url)
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        article_id = repo.article_id_for_url(session, "https://f24.example/ar/1")
        assert article_id is not None
        repo.replace_keyword_hits(session, article_id, [hit("kidal", "كيدال", 3)], "v2")
    with factory() as session:
        hits = session.execute(
            select(KeywordHit.concept_id, KeywordHit.count).where(KeywordHit.article_id == article_id)
        )
        assert hits.all() == [("kidal", 3)]
        copy = session.scalar(select(Article).where(Article.url == "https://meo.example/fr/4"))
        assert copy is not None and copy.duplicate_of is not None and copy.duplicate_of.url.endswith("/fr/3")
    engine.dispose()


def test_export_filters_by_time_outlet_and_language(db_url: str) -> None:
    fill(db_url)
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        everything = [a.url for a in repo.iter_articles(session, repo.ArticleFilter(), batch_size=2)]
        french = repo.ArticleFilter(languages=("fr",), outlets=("meo",))
        recent = repo.ArticleFilter(since=DAY - timedelta(days=1), until=DAY + timedelta(hours=1))
        assert len(everything) == 5
        assert [a.url for a in repo.iter_articles(session, french)] == ["https://meo.example/fr/4"]
        # bbc/en/5 has no publication date: its fetch time counts
        assert [a.url for a in repo.iter_articles(session, recent)] == [
            "https://f24.example/ar/1",
            "https://bbc.example/en/5",
        ]
    engine.dispose()


def test_digest_claims_and_health_work_alike(db_url: str) -> None:
    fill(db_url)
    engine = open_database(db_url)
    claim = {
        "period_start": DAY,
        "period_end": DAY + timedelta(days=1),
        "label": "2026-11-20",
        "timezone": "UTC",
        "fmt": "html",
        "recipients": ["desk@example.org"],
    }
    with session_factory(engine).begin() as session:
        assert claim_email(session, "k", **claim) is not None
    with session_factory(engine).begin() as session:
        assert claim_email(session, "k", **claim) is None
    with session_factory(engine)() as session:
        report = {h.outlet: h for h in outlet_health(session, now=DAY + timedelta(days=1, hours=1))}
    assert report["meo"].articles_in_window == 1 and not report["meo"].silent
    assert report["bbc"].silent
    engine.dispose()


def test_parquet_export_holds_the_jsonl_records(db_url: str, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    from sahel_crawler.exporting import EXPORT_FIELDS, article_record, write_parquet

    fill(db_url)
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        records = [article_record(a) for a in repo.iter_articles(session, repo.ArticleFilter())]
    engine.dispose()
    out = tmp_path / "articles.parquet"
    assert write_parquet(iter(records), out) == 5
    table = pq.read_table(out)
    assert table.column_names == list(EXPORT_FIELDS)
    rows = table.to_pylist()
    assert [r["url"] for r in rows] == [r["url"] for r in records]
    first = rows[0]
    assert first["published_at"] == DAY - timedelta(hours=2) and first["keywords"] == ["azawad", "kidal"]
    assert rows[3]["duplicate_of"] == "https://f24.example/fr/3" and rows[4]["published_at"] is None
