"""Stored articles in batches, with the concepts they are flagged with, for query evaluation.

Functions take a session and never commit. Every value reaches the database as a bound parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storage.filters import ArticleFilter
from storage.models import Article, KeywordHit

# (id, url, outlet, language, title, description, text, published_at, fetched_at, duplicate_of,
# concepts): the fields of `sahel_crawler.query.ArticleFacts`, in its order.
ArticleRow = tuple[
    int, str, str, str | None, str | None, str | None, str, datetime | None, datetime, int | None, frozenset[str]
]
_COLUMNS = (
    Article.id, Article.url, Article.outlet_id, Article.language, Article.title, Article.description,
    Article.text, Article.published_at, Article.fetched_at, Article.duplicate_of_id,
)  # fmt: skip


def _with_concepts(session: Session, statement: Select[tuple]) -> list[ArticleRow]:
    rows = session.execute(statement).all()
    concepts: dict[int, set[str]] = {row[0]: set() for row in rows}
    if concepts:
        hits = select(KeywordHit.article_id, KeywordHit.concept_id).where(KeywordHit.article_id.in_(list(concepts)))
        for article_id, concept in session.execute(hits):
            concepts[article_id].add(concept)
    return [(*row, frozenset(concepts[row[0]])) for row in rows]  # type: ignore[misc]


def _flagged_with_all(concepts: Iterable[str]) -> list:
    return [Article.id.in_(select(KeywordHit.article_id).where(KeywordHit.concept_id == c)) for c in sorted(concepts)]


def newest_articles(
    session: Session, flt: ArticleFilter, required: Iterable[str] = (), batch_size: int = 500
) -> Iterator[list[ArticleRow]]:
    """Articles the filter keeps and flagged with every `required` concept, newest stored
    first, a batch at a time."""
    clauses = [*flt.clauses(), *_flagged_with_all(required)]
    last: int | None = None
    while True:
        statement = select(*_COLUMNS).where(*clauses).order_by(Article.id.desc()).limit(batch_size)
        if last is not None:
            statement = statement.where(Article.id < last)
        batch = _with_concepts(session, statement)
        if not batch:
            return
        yield batch
        last = batch[-1][0]


def articles_after(
    session: Session, after_id: int, up_to: int, required: Iterable[str] = (), batch_size: int = 500
) -> Iterator[list[ArticleRow]]:
    """Articles stored after the article `after_id` up to `up_to` (ids grow as articles are
    stored), flagged with every `required` concept, oldest first, a batch at a time."""
    clauses = [Article.id <= up_to, *_flagged_with_all(required)]
    while True:
        statement = select(*_COLUMNS).where(Article.id > after_id, *clauses).order_by(Article.id).limit(batch_size)
        batch = _with_concepts(session, statement)
        if not batch:
            return
        yield batch
        after_id = batch[-1][0]


def articles_by_id(session: Session, ids: Iterable[int]) -> list[ArticleRow]:
    """The articles of `ids` that exist, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return _with_concepts(session, select(*_COLUMNS).where(Article.id.in_(wanted)).order_by(Article.id))
