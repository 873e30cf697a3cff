"""The places of a digest's period: resolved place hits counted by story, with coordinates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sahel_crawler.digest.period import Period
from sahel_crawler.places import load_gazetteer
from storage.models import Article, PlaceHit


@dataclass(frozen=True)
class PlaceCount:
    """A place named in the period: its labels and coordinates, and how many stories name it."""

    id: str
    kind: str  # locality | country
    labels: dict[str, str]  # ar, fr, en
    lat: float
    lon: float
    stories: int  # a near-copy counts with its original
    articles: int


def period_places(session: Session, period: Period, languages: Iterable[str] = ()) -> tuple[PlaceCount, ...]:
    """Resolved places of the articles dated in `period` (of `languages` when given), most
    stories first."""
    story = func.coalesce(Article.duplicate_of_id, Article.id)
    query = (
        select(PlaceHit.place_id, story)
        .join(Article, Article.id == PlaceHit.article_id)
        .where(PlaceHit.place_id.is_not(None), Article.dated_at >= period.start, Article.dated_at < period.end)
    )
    languages = tuple(languages)
    if languages:
        query = query.where(Article.language.in_(languages))
    stories: dict[str, set[int]] = defaultdict(set)
    articles: dict[str, int] = defaultdict(int)
    for place_id, story_id in session.execute(query):
        stories[place_id].add(story_id)
        articles[place_id] += 1
    gazetteer = load_gazetteer()
    found = []
    for place_id, roots in stories.items():
        place = gazetteer.places.get(place_id)
        if place is None:  # hits stored with an older gazetteer: mapped again after `sahel reflag`
            continue
        found.append(
            PlaceCount(place.id, place.kind, place.labels, place.lat, place.lon, len(roots), articles[place_id])
        )
    found.sort(key=lambda p: (-p.stories, -p.articles, p.id))
    return tuple(found)
