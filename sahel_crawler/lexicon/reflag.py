"""Recompute the keyword hits of stored articles after a lexicon change."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from sahel_crawler.lexicon.flagging import flag_article
from sahel_crawler.lexicon.loader import Lexicon
from sahel_crawler.lexicon.time_limit import TimeLimitExceeded, time_limit
from sahel_crawler.places import Gazetteer, PlaceHit, find_places
from storage.alerts import requeue_articles
from storage.models import Article
from storage.repository import replace_keyword_hits, replace_place_hits


@dataclass
class ReflagCounts:
    articles: int = 0  # articles looked at
    changed: int = 0  # articles whose set of concepts changed
    flagged: int = 0  # articles with at least one concept after reflagging
    skipped: int = 0  # articles whose flagging ran past the time limit, left as they were
    placed: int = 0  # articles with at least one resolved place (with a gazetteer)


def reflag_articles(
    Session: sessionmaker[Session],
    lexicon: Lexicon,
    *,
    only_outdated: bool = True,
    batch_size: int = 500,
    progress: Callable[[ReflagCounts], None] | None = None,
    seconds_per_article: float | None = None,
    on_skip: Callable[[str, str], None] | None = None,
    gazetteer: Gazetteer | None = None,
) -> ReflagCounts:
    """Flag stored articles again with `lexicon` and record its version on each.

    With `only_outdated`, articles already flagged with this lexicon version are skipped, so an
    interrupted run resumes where it stopped. Each batch is its own short transaction. An article
    whose flagging takes longer than `seconds_per_article` keeps its hits and version, is counted
    in `skipped` and handed to `on_skip(url, reason)`; the others go on. With a `gazetteer`, the
    place hits of each reflagged article are recomputed too.
    """
    counts = ReflagCounts()
    last_id = 0
    while True:
        with Session.begin() as session:
            query = select(Article).where(Article.id > last_id).order_by(Article.id).limit(batch_size)
            if only_outdated:
                query = query.where(or_(Article.lexicon_version.is_(None), Article.lexicon_version != lexicon.version))
            batch = list(session.scalars(query))
            if not batch:
                return counts
            for article in batch:
                counts.articles += 1
                try:
                    with time_limit(seconds_per_article):
                        hits = flag_article(lexicon, article.title, article.text)
                        places: list[PlaceHit] | None = (
                            find_places(gazetteer, article.title, article.text) if gazetteer is not None else None
                        )
                except TimeLimitExceeded as exc:
                    counts.skipped += 1
                    if on_skip is not None:
                        on_skip(article.url, str(exc))
                    continue
                before = {hit.concept_id for hit in article.keyword_hits}
                replace_keyword_hits(session, article.id, [dataclasses.asdict(h) for h in hits], lexicon.version)
                changed = before != {h.concept for h in hits}
                if changed:  # watch rules evaluate it again (docs/alerts.md)
                    requeue_articles(session, [article.id])
                counts.changed += changed
                counts.flagged += bool(hits)
                if places is not None:
                    replace_place_hits(session, article.id, [dataclasses.asdict(p) for p in places])
                    counts.placed += any(p.place_id is not None for p in places)
            last_id = batch[-1].id
        if progress is not None:
            progress(counts)
