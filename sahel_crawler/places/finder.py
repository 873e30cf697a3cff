"""Place hits of one article: the names the gazetteer matcher finds, resolved to places."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sahel_crawler.lexicon import ConceptHit, article_text
from sahel_crawler.places.gazetteer import Gazetteer, Place


@dataclass(frozen=True)
class PlaceHit:
    """A place name found in an article; `place_id` is None when the name stays ambiguous."""

    name: str  # the name concept
    place_id: str | None
    kind: str | None
    lat: float | None
    lon: float | None
    form: str
    count: int
    first_offset: int
    snippet: str


def resolve(hits: list[ConceptHit], gazetteer: Gazetteer) -> list[PlaceHit]:
    """The place hits among `hits`: a name shared by several places goes to the one whose
    country the article names most (the country's own name and its other places' names, by
    mentions); a tie, or no such country, leaves it unresolved."""
    named = [(hit, gazetteer.by_name[hit.concept]) for hit in hits if hit.concept in gazetteer.by_name]
    support: Counter[str] = Counter()
    for hit, places in named:
        if len(places) == 1:
            support[places[0].country] += hit.count
    result = []
    for hit, candidates in named:
        place = _choose(candidates, support)
        result.append(
            PlaceHit(
                name=hit.concept,
                place_id=place.id if place else None,
                kind=place.kind if place else None,
                lat=place.lat if place else None,
                lon=place.lon if place else None,
                form=hit.form,
                count=hit.count,
                first_offset=hit.first_offset,
                snippet=hit.snippet,
            )
        )
    return result


def _choose(candidates: list[Place], support: Counter[str]) -> Place | None:
    if len(candidates) == 1:
        return candidates[0]
    ranked = sorted(candidates, key=lambda p: support[p.country], reverse=True)
    best, runner_up = support[ranked[0].country], support[ranked[1].country]
    return ranked[0] if best > runner_up else None


def find_places(gazetteer: Gazetteer, title: str | None, text: str | None) -> list[PlaceHit]:
    """Place hits of an article's title and body (offsets into `article_text(title, text)`)."""
    return resolve(gazetteer.lexicon.match(article_text(title, text)), gazetteer)
