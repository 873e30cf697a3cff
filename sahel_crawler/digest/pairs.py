"""Who is mentioned with whom: pairs of actors flagged in the same story, with their trend."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from typing import Protocol

from sahel_crawler.lexicon import ACTOR_CATEGORIES


class _StoryHit(Protocol):
    root_id: int
    concept: str
    when: datetime


@dataclass(frozen=True)
class ActorPair:
    """Two actors named in the same stories: how many in the period and the 7 days before."""

    a: str  # concept id, the smaller of the two
    b: str
    a_label: str
    b_label: str
    stories: int  # stories of the period naming both
    previous: int  # stories of the previous days naming both
    story_ids: tuple[int, ...]  # ids of the period's stories (their originals)

    @property
    def new(self) -> bool:
        """Not seen together in the previous days."""
        return self.previous == 0


def actor_pairs(
    hits: Iterable[_StoryHit],
    period_start: datetime,
    period_end: datetime,
    previous_start: datetime,
    labels: Mapping[str, tuple[str, str | None]],
) -> tuple[ActorPair, ...]:
    """Pairs of actor concepts (categories in ACTOR_CATEGORIES) flagged in one story, most
    stories first; a story counts in the period or before it by the time of its articles."""
    actors = {cid for cid, (_, category) in labels.items() if category in ACTOR_CATEGORIES}
    now: dict[int, set[str]] = defaultdict(set)
    before: dict[int, set[str]] = defaultdict(set)
    for hit in hits:
        if hit.concept not in actors:
            continue
        if period_start <= hit.when < period_end:
            now[hit.root_id].add(hit.concept)
        elif previous_start <= hit.when < period_start:
            before[hit.root_id].add(hit.concept)
    in_period = _stories_per_pair(now)
    previous = _stories_per_pair(before)
    pairs = [
        ActorPair(
            a=a,
            b=b,
            a_label=labels[a][0],
            b_label=labels[b][0],
            stories=len(story_ids),
            previous=len(previous.get((a, b), ())),
            story_ids=tuple(sorted(story_ids)),
        )
        for (a, b), story_ids in in_period.items()
    ]
    pairs.sort(key=lambda p: (-p.stories, not p.new, p.a_label, p.b_label))
    return tuple(pairs)


def _stories_per_pair(concepts_per_story: Mapping[int, set[str]]) -> dict[tuple[str, str], set[int]]:
    found: dict[tuple[str, str], set[int]] = defaultdict(set)
    for story_id, concepts in concepts_per_story.items():
        for pair in combinations(sorted(concepts), 2):
            found[pair].add(story_id)
    return found
