"""Counting stories flagged with concepts in a time window, for breaking-story detection.

A story is an article with its near-duplicate copies: counted once, by its first article.
Functions take a session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Article, KeywordHit


def stories_flagged(session: Session, concepts: Iterable[str], start: datetime, end: datetime) -> list[int]:
    """The stories (first article ids) with an article flagged with one of `concepts` and dated
    in [start, end), oldest id first."""
    story = func.coalesce(Article.duplicate_of_id, Article.id)
    flagged = select(KeywordHit.article_id).where(KeywordHit.concept_id.in_(list(concepts)))
    statement = (
        select(story)
        .where(Article.id.in_(flagged), Article.dated_at >= start, Article.dated_at < end)
        .distinct()
        .order_by(story)
    )
    return list(session.scalars(statement))
