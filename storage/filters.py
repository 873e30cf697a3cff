"""Which stored articles a query considers: one filter for full-text search and exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Article, KeywordHit


@dataclass(frozen=True)
class ArticleFilter:
    """Which stored articles a query considers; every field optional."""

    since: datetime | None = None  # publication time (fetch time when unknown), inclusive
    until: datetime | None = None  # exclusive
    outlets: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    concepts: tuple[str, ...] = ()  # flagged with at least one of these lexicon concepts

    def clauses(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses on `articles` that keep the articles this filter selects."""
        clauses: list[ColumnElement[bool]] = []
        if self.since:
            clauses.append(Article.dated_at >= self.since)
        if self.until:
            clauses.append(Article.dated_at < self.until)
        if self.outlets:
            clauses.append(Article.outlet_id.in_(self.outlets))
        if self.languages:
            clauses.append(Article.language.in_(self.languages))
        if self.concepts:
            flagged = select(KeywordHit.article_id).where(KeywordHit.concept_id.in_(self.concepts))
            clauses.append(Article.id.in_(flagged))
        return clauses
