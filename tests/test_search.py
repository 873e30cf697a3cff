"""Full-text search on SQLite (FTS5) and PostgreSQL (tsvector): folded Arabic and Latin
spellings, proclitics, phrases, filters, ranking, snippets, hostile queries, index upkeep and
the `sahel search` command."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text

from sahel_crawler.commands.db import search_normalise
from sahel_crawler.commands.search import search_command
from sahel_crawler.text.arabic import word_variants
from sahel_crawler.text.fold import fold_key
from sahel_crawler.text.snippet import original_snippet
from storage import repository as repo
from storage import schema
from storage.db import make_engine, open_database, session_factory
from storage.filters import ArticleFilter
from storage.models import Article
from storage.search import (
    INDEX_FORMAT,
    article_search,
    parse_query,
    pending_articles,
    search,
    sync_index,
)
from tests.test_postgres_storage import BACKENDS, DAY, fill, sample_articles, throwaway_database


@pytest.fixture(scope="module", params=BACKENDS)
def indexed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """(URL, sessionmaker) of the sample corpus, indexed; tests here only read it."""
    with throwaway_database(request.param, tmp_path_factory.mktemp("search"), request) as url:
        fill(url)
        engine = open_database(url)
        factory = session_factory(engine)
        assert sync_index(factory, search_normalise) == 5
        yield url, factory
        engine.dispose()


def urls(factory, query: str, flt: ArticleFilter | None = None, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return [h.url for h in search(session, fold_key(query), flt, word_variants=word_variants, **kwargs)]


def test_arabic_spellings_and_proclitics_are_found(indexed) -> None:  # type: ignore[no-untyped-def]
    _, factory = indexed
    expected = {"https://f24.example/ar/1", "https://meo.example/ar/2"}  # أَزَوَاد and بأزواد
    assert set(urls(factory, "أزواد")) == expected
    assert set(urls(factory, "أَزْوَاد")) == expected
    assert urls(factory, "الحركة الوطنية") == ["https://f24.example/ar/1"]  # ة = ه, and الحركة ≠ حركة
    assert set(urls(factory, "حركة")) == expected  # the article is a proclitic too


def test_latin_case_accents_and_apostrophes_fold(indexed) -> None:  # type: ignore[no-untyped-def]
    _, factory = indexed
    both = {"https://f24.example/fr/3", "https://meo.example/fr/4"}
    assert set(urls(factory, "MENAKA")) == both
    assert set(urls(factory, "Ménaka")) == both
    assert set(urls(factory, "l’Azawad")) == both  # the folded typographic apostrophe splits like the text
    assert urls(factory, "ménaka niamey") == []  # every word must match


def test_phrases_match_in_order(indexed) -> None:  # type: ignore[no-untyped-def]
    _, factory = indexed
    assert len(urls(factory, '"front de libération" repris')) == 1
    assert urls(factory, '"libération de front"') == []


def test_filters(indexed) -> None:  # type: ignore[no-untyped-def]
    _, factory = indexed
    assert urls(factory, "أزواد", ArticleFilter(outlets=("meo",))) == ["https://meo.example/ar/2"]
    assert urls(factory, "مالي", ArticleFilter(languages=("ar",))) == ["https://meo.example/ar/2"]
    assert urls(factory, "mali", ArticleFilter(languages=("ar",))) == []
    assert set(urls(factory, "attaque", ArticleFilter(concepts=("mali",)))) == {
        "https://f24.example/fr/3",
        "https://meo.example/fr/4",
    }
    assert urls(factory, "attaque", ArticleFilter(concepts=("niger",))) == []
    window = ArticleFilter(since=DAY - timedelta(days=1), until=DAY + timedelta(hours=12))
    assert urls(factory, "أزواد", window) == ["https://f24.example/ar/1"]
    assert urls(factory, "niamey", window) == ["https://bbc.example/en/5"]  # undated: fetch time counts


def test_ranking_snippets_and_limit(indexed) -> None:  # type: ignore[no-untyped-def]
    _, factory = indexed
    with factory() as session:
        hits = search(session, fold_key("أزواد"), limit=5, word_variants=word_variants)
        assert hits[0].url == "https://f24.example/ar/1"  # in its title and its text
        assert hits[0].rank > hits[1].rank
        assert "[ازواد]" in hits[0].snippet and "[بازواد]" in hits[1].snippet
        assert len(search(session, fold_key("mali"), limit=1, word_variants=word_variants)) == 1
        with pytest.raises(ValueError):
            search(session, "mali", limit=0, word_variants=word_variants)


def test_postgresql_ranks_the_newest_matches_of_a_common_word(indexed, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url, factory = indexed
    both = urls(factory, "أزواد")
    with factory() as session:
        dated = session.execute(select(Article.url, Article.dated_at).where(Article.url.in_(both))).all()
    newest = max(dated, key=lambda row: row[1])[0]
    monkeypatch.setattr("storage.search.PG_RANK_CANDIDATES", 1)
    if url.startswith("postgresql"):
        assert urls(factory, "أزواد") == [newest]
    else:  # SQLite's FTS5 ranks every match: bm25 reads no text vectors
        assert urls(factory, "أزواد") == both


@pytest.mark.parametrize(
    "query",
    [
        "'; DROP TABLE articles; --",
        'NEAR("mali" niger)',
        "mali*",
        '"unbalanced',
        "title:mali",
        "-mali",
        "a & | ! ( )",
        "",
    ],
)
def test_hostile_queries_are_just_words(indexed, query: str) -> None:  # type: ignore[no-untyped-def]
    _, factory = indexed
    with factory() as session:
        search(session, fold_key(query), word_variants=word_variants)
        assert session.scalar(select(func.count()).select_from(Article)) == 5


def test_arabic_variants_cover_the_lexicon_proclitics() -> None:
    variants = word_variants("ازواد")
    assert {"ازواد", "بازواد", "والازواد", "للازواد", "فبالازواد"} <= set(variants)
    assert word_variants("الساحل")[:2] == ["الساحل", "ساحل"]
    assert word_variants("mali") == ["mali"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_changed_and_deleted_articles_leave_the_index_current(backend: str, tmp_path: Path, request) -> None:  # type: ignore[no-untyped-def]
    with throwaway_database(backend, tmp_path, request) as url:
        fill(url)
        engine = open_database(url)
        factory = session_factory(engine)
        sync_index(factory, search_normalise)
        with factory.begin() as session:
            assert pending_articles(session) == []
            record = sample_articles()[4]
            record.text = "Talks in Niamey moved to Agadez."
            repo.save_article(session, record)
            assert [row[0] for row in pending_articles(session)] != []
        assert sync_index(factory, search_normalise) == 1
        assert urls(factory, "agadez") == ["https://bbc.example/en/5"]
        assert urls(factory, "benin") == []
        with factory.begin() as session:
            session.execute(delete(Article).where(Article.url == "https://bbc.example/en/5"))
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(article_search)) == 4
        assert urls(factory, "agadez") == []
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_both_back_ends_index_the_same_words(backend: str, tmp_path: Path, request) -> None:  # type: ignore[no-untyped-def]
    # PostgreSQL's parser read "<script>" as a tag and skipped the rest of the text, and kept
    # 1.500, u.s. and france24.com as single tokens that the query splits into words.
    record = repo.ArticleRecord(
        url="https://bbc.example/en/9",
        outlet="bbc",
        title="Hackers plant <script> tags on Mali government websites",
        description="Hackers plant <script> tags",
        text="Hackers plant <script> tags. 1.500 soldiers left, u.s. officials said on france24.com/news.",
        fetched_at=DAY,
        language="en",
    )
    with throwaway_database(backend, tmp_path, request) as url:
        fill(url, [record])
        engine = open_database(url)
        factory = session_factory(engine)
        sync_index(factory, search_normalise)
        for query in ("government websites", "500 soldiers", "u.s. officials", "france24.com", "news"):
            assert urls(factory, query) == [record.url], query
        with factory() as session:
            indexed_text = session.scalar(select(article_search.c.search_text))
        assert indexed_text.count("hackers plant") == 2, "the standfirst the body begins with is indexed once"
        with factory.begin() as session:  # as an older version indexed it: found again by the next sync
            session.execute(article_search.update().values(search_text="hackers", index_format=INDEX_FORMAT - 1))
        assert urls(factory, "government websites") == []
        assert sync_index(factory, search_normalise) == 1
        assert urls(factory, "government websites") == [record.url]
        engine.dispose()


def test_search_command_formats(indexed) -> None:  # type: ignore[no-untyped-def]
    url, _ = indexed
    runner = CliRunner()
    result = runner.invoke(search_command, ["أَزَوَاد", "--db", url, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["url"] for r in records] == ["https://f24.example/ar/1", "https://meo.example/ar/2"]
    assert list(records[0]) == ["rank", "published_at", "outlet", "language", "title", "url", "snippet"]
    result = runner.invoke(search_command, ["ménaka", "--db", url, "--format", "csv", "--outlet", "meo"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["url"] for r in rows] == ["https://meo.example/fr/4"]
    result = runner.invoke(search_command, ["كيدال", "--db", url, "--lang", "ar", "--since", "2026-11-20"])
    assert result.exit_code == 0 and "https://f24.example/ar/1" in result.output and "[كيدال]" in result.output
    result = runner.invoke(search_command, ["kidal", "--db", url, "--since", "yesterday"])
    assert result.exit_code == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_index_built_by_an_older_version_is_numbered_and_rebuilt(backend, tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    # Before index_format existed, the form of a row was told by when it was indexed.
    with throwaway_database(backend, tmp_path, request) as url:
        fill(url)
        engine = open_database(url)
        factory = session_factory(engine)
        assert sync_index(factory, search_normalise) == 5
        engine.dispose()
        schema.downgrade(url, "0003_full_text_search")
        engine = make_engine(url)
        with engine.begin() as connection:
            ids = connection.execute(text("SELECT article_id FROM article_search ORDER BY article_id")).scalars().all()
            first_form, second_form = datetime(2026, 11, 20, 9, 0, tzinfo=UTC), datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
            for article_id in ids:
                when = first_form if article_id == ids[0] else second_form
                connection.execute(
                    article_search.update().where(article_search.c.article_id == article_id).values(indexed_at=when)
                )
        engine.dispose()
        schema.upgrade(url)
        engine = open_database(url)
        factory = session_factory(engine)
        with factory() as session:
            formats = dict(session.execute(select(article_search.c.article_id, article_search.c.index_format)).all())
        assert formats == {article_id: 1 if article_id == ids[0] else 2 for article_id in ids}
        assert sync_index(factory, search_normalise) == 5  # both older forms are indexed again
        with factory() as session:
            assert set(session.scalars(select(article_search.c.index_format))) == {INDEX_FORMAT}
        assert sync_index(factory, search_normalise) == 0
        engine.dispose()


def test_snippets_show_the_original_text_in_every_format(indexed) -> None:  # type: ignore[no-untyped-def]
    url, _ = indexed
    runner = CliRunner()
    table = runner.invoke(search_command, ["أزواد", "--db", url])
    assert table.exit_code == 0, table.output
    assert "قالت الحركة الوطنية لتحرير [أَزَوَاد] إن الهجوم وقع قرب كيدال." in table.output  # diacritics as published
    assert "أعلنت حركة إنقاذ [بأزواد] أنها صدت هجوما" in table.output  # أ, not the folded ا
    assert "[ازواد]" not in table.output and "[بازواد]" not in table.output
    jsonl = runner.invoke(search_command, ["menaka", "--db", url, "--format", "jsonl", "--outlet", "france24"])
    (record,) = [json.loads(line) for line in jsonl.output.splitlines()]
    assert record["snippet"].startswith("Mali : attaque près de [Ménaka]")
    assert "l'Azawad revendique une attaque près de [Ménaka], au Mali." in record["snippet"]
    csv_out = runner.invoke(search_command, ['"attaque pres"', "--db", url, "--format", "csv", "--outlet", "meo"])
    (row,) = list(csv.DictReader(io.StringIO(csv_out.output)))
    assert "[attaque près] de Ménaka" in row["snippet"]


_LETTERS = st.sampled_from(list("abcéèàçÉ") + list("ابتثجحخدأإآةىيئؤ") + ["\u064e", "\u0651"])
_WORDS = st.lists(st.text(_LETTERS, min_size=1, max_size=8), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(_WORDS, st.data())
def test_a_snippet_marks_the_words_as_written_that_fold_to_the_query(words: list[str], data) -> None:  # type: ignore[no-untyped-def]
    document = " ".join(words)
    word = data.draw(st.sampled_from(words))
    terms = parse_query(fold_key(word))
    assume(terms)
    snippet = original_snippet(document, terms)
    marked = re.findall(r"\[([^\]]*)\]", snippet)
    assert marked, snippet
    assert all(fold_key(m) in word_variants(terms[0][0]) for m in marked)
    plain = snippet.removeprefix("… ").removesuffix(" …").replace("[", "").replace("]", "")
    assert plain in document
