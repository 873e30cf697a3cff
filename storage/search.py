"""Full-text search over normalised article text: SQLite FTS5 or PostgreSQL tsvector/GIN.

The index holds one row per article in `article_search`: the article's title, standfirst and
text, normalised by the caller with the keyword engine's folding (`search_text`), so that a
folded query finds every spelling the folding unifies. On SQLite the FTS5 table
`article_search_fts` indexes that column (kept in step by triggers); on PostgreSQL a generated
`search_vector` column with a GIN index does. Both are made by the migrations.

Arabic attaches proclitics (و ف ب ل ك and the article ال) to the word that follows, so the caller's
`word_variants` expands a query word to the word with each of them (ازواد also matches بازواد and
والازواد), the same prefixes the keyword engine accepts. Latin words are split at apostrophes
(l'azawad) by both databases' tokenizers, as here.

Functions take a session and never commit, except `sync_index`, which takes a sessionmaker and
commits batch by batch. Every value reaches the database as a bound parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session, sessionmaker

from storage.db import dialect_insert
from storage.documents import search_document
from storage.filters import ArticleFilter
from storage.models import Article, Base, UTCDateTime, utcnow

article_search = Table(
    "article_search",
    Base.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    Column("search_text", Text, nullable=False),
    Column("indexed_at", UTCDateTime, nullable=False, default=utcnow),
    Column("index_format", Integer, nullable=False, server_default="1"),
)

# The FTS5 table of SQLite and the generated tsvector column of PostgreSQL (made by migrations).
_fts = table("article_search_fts", column("rowid", Integer), column("search_text", Text))
_FTS_NAME = literal_column("article_search_fts")
_VECTOR = literal_column("article_search.search_vector")
_TS_CONFIG = literal_column("'simple'::regconfig")

_WORD = re.compile(r"[^\W_]+")
_PHRASE = re.compile(r'"([^"]*)"')
# The forms a normalised query word matches (sahel_crawler.text.arabic.word_variants).
WordVariants = Callable[[str], list[str]]
# A snippet of an article's indexed document as published, around the matches of the parsed
# query terms (sahel_crawler.text.snippet.original_snippet).
OriginalSnippet = Callable[[str, list[list[str]]], str]
SNIPPET_WORDS = 24
# On PostgreSQL, a query matching more articles than this ranks the newest of them only:
# ts_rank_cd reads every candidate's tsvector, and ranking every match of a very common word
# took over a second at 100k articles.
PG_RANK_CANDIDATES = 1000


@dataclass(frozen=True)
class SearchHit:
    """One matching article, best first; `snippet` has its matches in [brackets]: the text as
    published when `search` was given `original_snippet`, else the normalised index text."""

    article_id: int
    url: str
    outlet: str
    language: str | None
    title: str | None
    published_at: datetime | None
    rank: float  # higher is better; comparable within one result list only
    snippet: str


# -- the index ---------------------------------------------------------------------------


def index_articles(session: Session, documents: list[tuple[int, str]]) -> None:
    """Put (or replace) several articles' normalised texts, (article id, text), in one statement."""
    if not documents:
        return
    now = utcnow()
    statement = dialect_insert(session, article_search)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[article_search.c.article_id],
            set_={
                "search_text": statement.excluded.search_text,
                "indexed_at": statement.excluded.indexed_at,
                "index_format": statement.excluded.index_format,
            },
        ),
        [
            {"article_id": article_id, "search_text": text, "indexed_at": now, "index_format": INDEX_FORMAT}
            for article_id, text in documents
        ],
    )


# The form of the text the index holds; rows of a lower number are indexed again by the next
# sync (`sahel db upgrade`, `sahel search`). Add one whenever what the index holds changes (the
# folding, `storage.documents`). 2: the characters the back ends' tokenizers treat differently
# are spaces, and the standfirst the body begins with is not doubled; 3: nor is a standfirst the
# page cut short.
INDEX_FORMAT = 3


def pending_articles(session: Session, limit: int = 500) -> list[tuple[int, str | None, str | None, str]]:
    """Articles missing from the index, changed since indexed, or indexed in an older form:
    (id, title, description, text)."""
    stale = or_(
        article_search.c.article_id.is_(None),
        article_search.c.index_format < INDEX_FORMAT,
        and_(Article.updated_at.is_not(None), Article.updated_at > article_search.c.indexed_at),
    )
    rows = session.execute(
        select(Article.id, Article.title, Article.description, Article.text)
        .outerjoin(article_search, article_search.c.article_id == Article.id)
        .where(stale)
        .order_by(Article.id)
        .limit(limit)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def sync_index(factory: sessionmaker[Session], normalise: Callable[[str], str], batch_size: int = 500) -> int:
    """Index every pending article, one transaction per batch; return how many were indexed.

    `normalise` is the keyword engine's folding (storage does not import the crawler).
    """
    done = 0
    while True:
        with factory.begin() as session:
            batch = pending_articles(session, batch_size)
            index_articles(
                session,
                [(article_id, normalise(search_document(*parts))) for article_id, *parts in batch],
            )
        done += len(batch)
        if len(batch) < batch_size:
            return done


# -- queries -----------------------------------------------------------------------------


def parse_query(query: str) -> list[list[str]]:
    """A normalised query as terms that must all match: a quoted phrase is one term of several
    words; every other word is a term of one word (with its Arabic variants)."""
    terms = [_WORD.findall(phrase) for phrase in _PHRASE.findall(query)]
    terms += [[word] for word in _WORD.findall(_PHRASE.sub(" ", query))]
    return [term for term in terms if term]


def _fts5_query(terms: list[list[str]], word_variants: WordVariants) -> str:
    parts = []
    for term in terms:
        if len(term) == 1:
            variants = " OR ".join(f'"{form}"' for form in word_variants(term[0]))
            parts.append(f"({variants})")
        else:
            parts.append('"' + " ".join(term) + '"')
    return " AND ".join(parts)


def _tsquery(terms: list[list[str]], word_variants: WordVariants) -> str:
    parts = []
    for term in terms:
        if len(term) == 1:
            parts.append("(" + " | ".join(f"'{form}'" for form in word_variants(term[0])) + ")")
        else:
            parts.append("(" + " <-> ".join(f"'{word}'" for word in term) + ")")
    return " & ".join(parts)


def search(
    session: Session,
    query: str,
    flt: ArticleFilter | None = None,
    limit: int = 20,
    marks: tuple[str, str] = ("[", "]"),
    *,
    word_variants: WordVariants,
    original_snippet: OriginalSnippet | None = None,
) -> list[SearchHit]:
    """Articles matching every term of the normalised `query`, best first, with snippets.

    `word_variants` gives the forms a query word matches: the keyword engine's Arabic
    proclitics (storage does not import the crawler). `original_snippet` makes each snippet
    from the article as published instead of the folded index text the database holds.

    Returns [] for a query without words. Raises ValueError for a limit below 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    terms = parse_query(query)
    if not terms:
        return []
    flt = flt or ArticleFilter()
    columns = (Article.id, Article.url, Article.outlet_id, Article.language, Article.title, Article.published_at)
    database_marks = None if original_snippet else marks
    if session.get_bind().dialect.name == "postgresql":
        statement = _postgresql(_tsquery(terms, word_variants), flt, limit, database_marks, columns)
    else:
        statement = _sqlite(_fts5_query(terms, word_variants), flt, limit, database_marks, columns)
    hits = [SearchHit(*row[:6], rank=float(row[6]), snippet=row[7]) for row in session.execute(statement)]
    if original_snippet is None or not hits:
        return hits
    documents = {
        row.id: search_document(row.title, row.description, row.text)
        for row in session.execute(
            select(Article.id, Article.title, Article.description, Article.text).where(
                Article.id.in_([hit.article_id for hit in hits])
            )
        )
    }
    return [replace(hit, snippet=original_snippet(documents[hit.article_id], terms)) for hit in hits]


def _sqlite(
    fts_query: str, flt: ArticleFilter, limit: int, marks: tuple[str, str] | None, columns: tuple[Any, ...]
) -> Select[Any]:
    # bm25() is lower for better matches; negate it so that higher is better on both databases.
    rank = (-func.bm25(_FTS_NAME)).label("rank")
    snippet = func.snippet(_FTS_NAME, 0, marks[0], marks[1], "…", SNIPPET_WORDS) if marks else literal("")
    return (
        select(*columns, rank, snippet.label("snippet"))
        .select_from(_fts)
        .join(Article, Article.id == _fts.c.rowid)
        .where(_FTS_NAME.match(bindparam("fts_query", fts_query)), *flt.clauses())
        .order_by(rank.desc(), Article.id)
        .limit(limit)
    )


def _postgresql(
    ts_query: str, flt: ArticleFilter, limit: int, marks: tuple[str, str] | None, columns: tuple[Any, ...]
) -> Select[Any]:
    query = func.to_tsquery(_TS_CONFIG, bindparam("ts_query", ts_query))
    rank = func.ts_rank_cd(_VECTOR, query).label("rank")
    # Finding and ordering the matches by date needs the index and the articles' dates only;
    # ranking reads each candidate's whole tsvector, so only the newest candidates are ranked.
    candidates = (
        select(Article.id)
        .join(article_search, article_search.c.article_id == Article.id)
        .where(_VECTOR.op("@@")(query), *flt.clauses())
        .order_by(Article.dated_at.desc(), Article.id.desc())
        .limit(PG_RANK_CANDIDATES)
        .subquery()
    )
    best = (
        select(*columns, article_search.c.search_text, rank)
        .join(article_search, article_search.c.article_id == Article.id)
        .join(candidates, candidates.c.id == Article.id)
        .order_by(rank.desc(), Article.id)
        .limit(limit)
        .subquery()
    )
    if marks is None:
        headline: Any = literal("")
    else:
        options = (
            f"StartSel={marks[0]}, StopSel={marks[1]}, MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, "
            'MaxFragments=2, FragmentDelimiter=" … "'
        )
        # The headline is the costly part: compute it for the best rows only.
        headline = func.ts_headline(_TS_CONFIG, best.c.search_text, query, bindparam("headline_options", options))
    return select(
        best.c.id, best.c.url, best.c.outlet_id, best.c.language, best.c.title, best.c.published_at,
        best.c.rank, headline,
    ).order_by(best.c.rank.desc(), best.c.id)  # fmt: skip
