"""Build a digest from the database: top stories, concepts with trends, who is mentioned with
whom, counts, source health.

A story is an article together with its near-duplicates (articles whose `duplicate_of` is it):
counts are counts of stories, so a syndicated copy never makes a concept look busier. Times are
publication times, fetch times when unknown; local days are days in the digest's time zone.
Everything here is read-only and returns plain dataclasses that the renderers turn into text.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sahel_crawler.digest.lead import lead_text
from sahel_crawler.digest.pairs import ActorPair, actor_pairs
from sahel_crawler.digest.period import Period, local_midnight
from sahel_crawler.digest.places import PlaceCount, period_places
from sahel_crawler.digest.safety import clean_text
from storage.models import Article, ArticleAlias, CrawlError, KeywordHit, Outlet

# A concept "spikes" when its story count reaches this many and at least SPIKE_RATIO times
# its average over the previous 7 days (documented in docs/digest.md).
SPIKE_MIN_STORIES = 3
SPIKE_RATIO = 2.0
TREND_DAYS = 7
CHART_DAYS = 14
CHART_CONCEPTS = 5
LABEL_LANGUAGES = ("en", "fr", "ar")


@dataclass(frozen=True)
class Copy:
    """Another URL that carried a story: a near-duplicate on another outlet, or an exact copy."""

    url: str
    outlet: str | None
    outlet_name: str | None
    language: str | None
    published_at: datetime | None


@dataclass(frozen=True)
class ShownArticle:
    """The article a story is shown by: its original when the original is in the period."""

    url: str
    title: str
    outlet: str
    outlet_name: str
    language: str | None
    published_at: datetime | None


@dataclass(frozen=True)
class Story(ShownArticle):
    """One story of a concept: the article shown, and every other URL that carried it."""

    snippet: str = ""
    also: tuple[Copy, ...] = ()


@dataclass(frozen=True)
class TopStory(ShownArticle):
    """A story of the period, shown once: its lead article, concepts, coverage and every copy."""

    rank: int = 0  # 1 = widest coverage
    lead: str = ""  # the first sentences of the text, an ellipsis where cut
    concepts: tuple[tuple[str, str], ...] = ()  # (id, label), most active concept first
    outlets: tuple[str, ...] = ()  # names of the outlets that carried it
    languages: tuple[str, ...] = ()
    copies: tuple[Copy, ...] = ()  # every other URL that carried it

    @property
    def anchor(self) -> str:
        """The HTML id of the story, which the concept table links to."""
        return f"story-{self.rank}"


@dataclass(frozen=True)
class ConceptSection:
    """A flagged concept in the period: counts, trend against the previous 7 days, its stories."""

    id: str
    label: str
    category: str | None
    count: int  # stories
    articles: int  # articles, near-duplicates included
    previous_average: float  # stories per period-length over the previous 7 days
    change: float  # count - previous_average
    spike: bool
    stories: tuple[Story, ...]
    outlets: dict[str, int] = field(default_factory=dict)  # articles per outlet id
    languages: dict[str, int] = field(default_factory=dict)  # articles per language


@dataclass(frozen=True)
class OutletHealth:
    """An outlet in the period: what it produced, what failed, and a one-word status."""

    id: str
    name: str
    articles: int  # every stored article of the period, flagged or not
    flagged: int  # articles with at least one (selected) concept
    errors: int  # page-level crawl errors recorded in the period
    status: str  # silent (nothing stored) | errors (stored, but some pages failed) | ok


@dataclass(frozen=True)
class History:
    """Daily story counts of the top concepts over the last CHART_DAYS local days."""

    days: tuple[date, ...]
    series: dict[str, tuple[int, ...]]  # concept id -> one count per day, ordered like `days`
    labels: dict[str, str]


@dataclass(frozen=True)
class Digest:
    """Everything a digest shows, in display order."""

    period: Period
    generated_at: datetime
    concepts: tuple[ConceptSection, ...]
    outlets: tuple[OutletHealth, ...]
    languages: dict[str, int]  # flagged articles per language
    history: History
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stories: tuple[TopStory, ...] = ()  # every flagged story once, widest coverage first
    pairs: tuple[ActorPair, ...] = ()  # actors flagged in the same stories
    places: tuple[PlaceCount, ...] = ()  # resolved places of the period's articles, most stories first

    @property
    def story_count(self) -> int:
        """Distinct stories over all concepts (a story under two concepts counts once)."""
        return len(self.stories)

    def story_ranks(self, concept: ConceptSection) -> list[int]:
        """The ranks (in `stories`) of a concept's stories, in rank order."""
        urls = {s.url for s in concept.stories}
        return [s.rank for s in self.stories if s.url in urls]

    @property
    def is_empty(self) -> bool:
        return not self.concepts


@dataclass(frozen=True)
class _Hit:
    article_id: int
    root_id: int
    outlet: str
    language: str | None
    when: datetime
    concept: str


def concept_labels(lexicon: Any) -> dict[str, tuple[str, str | None]]:
    """Concept id -> (label, category) from a loaded lexicon (its English label first)."""
    found: dict[str, tuple[str, str | None]] = {}
    for cid, concept in getattr(lexicon, "concepts", {}).items():
        labels = getattr(concept, "labels", {}) or {}
        label = next((labels[lang] for lang in LABEL_LANGUAGES if labels.get(lang)), cid)
        found[cid] = (label, getattr(concept, "category", None))
    return found


def build_digest(
    session: Session,
    period: Period,
    *,
    concepts: Iterable[str] = (),
    languages: Iterable[str] = (),
    labels: Mapping[str, tuple[str, str | None]] | None = None,
    now: datetime | None = None,
) -> Digest:
    """The digest of `period`, restricted to `concepts` and `languages` when given.

    `labels` maps concept ids to (label, category); an unknown concept is labelled by its id.
    """
    concepts, languages = tuple(concepts), tuple(languages)
    labels = labels or {}
    tz = period.zone
    chart_start = local_midnight(period.last_day - timedelta(days=CHART_DAYS - 1), tz)
    trend_bounds = [(period.start.astimezone(tz) - timedelta(days=k)).astimezone(UTC) for k in range(TREND_DAYS + 1)]
    window_start = min(chart_start, trend_bounds[-1], period.start)
    hits = _hits(session, window_start, period.end, concepts, languages)

    in_period = [h for h in hits if period.start <= h.when < period.end]
    sections = [
        _section(session, cid, group, hits, trend_bounds, period, labels)
        for cid, group in _by_concept(in_period).items()
    ]
    sections.sort(key=lambda s: (-s.count, -s.articles, s.id))

    top = [s.id for s in sections[:CHART_CONCEPTS]]
    history = _history(hits, top, period, {s.id: s.label for s in sections})
    flagged_articles = {h.article_id: h for h in in_period}
    order = {s.id: i for i, s in enumerate(sections)}
    return Digest(
        period=period,
        generated_at=now or datetime.now(UTC),
        concepts=tuple(sections),
        outlets=_outlet_health(session, period, Counter(h.outlet for h in flagged_articles.values())),
        languages=dict(sorted(Counter(h.language or "und" for h in flagged_articles.values()).items())),
        history=history,
        filters={"concepts": concepts, "languages": languages},
        stories=_top_stories(session, in_period, order, labels),
        pairs=actor_pairs(hits, period.start, period.end, trend_bounds[-1], labels),
        places=period_places(session, period, languages),
    )


def _hits(
    session: Session, start: datetime, end: datetime, concepts: tuple[str, ...], languages: tuple[str, ...]
) -> list[_Hit]:
    """(article, concept) pairs of the window, each with the id of its story's original."""
    when = Article.dated_at
    query = (
        select(Article.id, Article.duplicate_of_id, Article.outlet_id, Article.language, when, KeywordHit.concept_id)
        .join(KeywordHit, KeywordHit.article_id == Article.id)
        .where(when >= start, when < end)
    )
    if concepts:
        query = query.where(KeywordHit.concept_id.in_(concepts))
    if languages:
        query = query.where(Article.language.in_(languages))
    rows = session.execute(query).all()
    roots = _roots(session, {r[0]: r[1] for r in rows})
    return [_Hit(r[0], roots[r[0]], r[2], r[3], r[4], r[5]) for r in rows]


def _roots(session: Session, parent: dict[int, int | None]) -> dict[int, int]:
    """Article id -> id of the original it copies (itself when it is an original), following
    chains of copies even through originals outside the window."""
    parents = dict(parent)
    for _ in range(8):  # copies of copies are rare and short; the bound only guards against cycles
        missing = {p for p in parents.values() if p is not None and p not in parents}
        if not missing:
            break
        parents.update(
            session.execute(select(Article.id, Article.duplicate_of_id).where(Article.id.in_(missing))).all()
        )

    def root(article_id: int) -> int:
        seen = {article_id}
        while (up := parents.get(article_id)) is not None and up not in seen:
            article_id = up
            seen.add(up)
        return article_id

    return {aid: root(aid) for aid in parent}


def _by_concept(hits: Iterable[_Hit]) -> dict[str, list[_Hit]]:
    grouped: dict[str, list[_Hit]] = defaultdict(list)
    for hit in hits:
        grouped[hit.concept].append(hit)
    return grouped


def _section(
    session: Session,
    cid: str,
    group: list[_Hit],
    hits: list[_Hit],
    trend_bounds: list[datetime],
    period: Period,
    labels: Mapping[str, tuple[str, str | None]],
) -> ConceptSection:
    count = len({h.root_id for h in group})
    # the same day-by-day story counting, over each of the TREND_DAYS days before the period
    previous = 0
    for k in range(1, TREND_DAYS + 1):
        lo, hi = trend_bounds[k], trend_bounds[k - 1]
        previous += len({h.root_id for h in hits if h.concept == cid and lo <= h.when < hi})
    average = round(previous / TREND_DAYS * period.days, 2)
    label, category = labels.get(cid, (cid, None))
    return ConceptSection(
        id=cid,
        label=label,
        category=category,
        count=count,
        articles=len(group),
        previous_average=average,
        change=round(count - average, 2),
        spike=count >= SPIKE_MIN_STORIES and count >= SPIKE_RATIO * average,
        stories=_stories(session, cid, group),
        outlets=dict(sorted(Counter(h.outlet for h in group).items())),
        languages=dict(sorted(Counter(h.language or "und" for h in group).items())),
    )


def _stories(session: Session, cid: str, group: list[_Hit]) -> tuple[Story, ...]:
    """The concept's stories, newest first; each shows its original when the original is in
    the period, else its earliest copy, and lists the other URLs that carried it."""
    ids = [h.article_id for h in group]
    details = {
        row[0]: row
        for row in session.execute(
            select(
                Article.id,
                Article.url,
                Article.title,
                Article.outlet_id,
                Outlet.name,
                Article.language,
                Article.published_at,
                Article.fetched_at,
                KeywordHit.snippet,
            )
            .join(Outlet, Outlet.id == Article.outlet_id)
            .join(KeywordHit, (KeywordHit.article_id == Article.id) & (KeywordHit.concept_id == cid))
            .where(Article.id.in_(ids))
        )
    }
    exact_copies = _exact_copies(session, ids)

    members: dict[int, list[_Hit]] = defaultdict(list)
    for hit in group:
        members[hit.root_id].append(hit)
    stories = []
    for root_id, story_hits in members.items():
        story_hits.sort(key=lambda h: (h.article_id != root_id, h.when, h.article_id))
        lead = details[story_hits[0].article_id]
        also = _other_copies(story_hits, details, exact_copies)
        stories.append(
            Story(
                **_shown(lead),
                snippet=clean_text(lead.snippet),
                also=tuple(also),
            )
        )
    far_past = datetime.min.replace(tzinfo=UTC)
    stories.sort(key=lambda s: (s.published_at or far_past, s.url), reverse=True)
    return tuple(stories)


def _top_stories(
    session: Session, hits: list[_Hit], order: Mapping[str, int], labels: Mapping[str, tuple[str, str | None]]
) -> tuple[TopStory, ...]:
    """Every story of the period once, ranked by coverage: outlets, then languages, then copies,
    then the newest first. The lead article is the original when it is in the period."""
    members: dict[int, dict[int, _Hit]] = defaultdict(dict)
    concepts: dict[int, set[str]] = defaultdict(set)
    for hit in hits:
        members[hit.root_id].setdefault(hit.article_id, hit)
        concepts[hit.root_id].add(hit.concept)
    ids = [aid for group in members.values() for aid in group]
    details = {
        row.id: row
        for row in session.execute(
            select(
                Article.id,
                Article.url,
                Article.title,
                Article.text,
                Article.outlet_id,
                Outlet.name,
                Article.language,
                Article.published_at,
            )
            .join(Outlet, Outlet.id == Article.outlet_id)
            .where(Article.id.in_(ids))
        )
    }
    exact_copies = _exact_copies(session, ids)
    ranked = []
    for root_id, group in members.items():
        articles = sorted(group.values(), key=lambda h: (h.article_id != root_id, h.when, h.article_id))
        lead = details[articles[0].article_id]
        copies = _other_copies(articles, details, exact_copies)
        outlets = tuple(dict.fromkeys(clean_text(details[h.article_id].name) for h in articles))
        languages = tuple(dict.fromkeys(h.language or "und" for h in articles))
        named = sorted(concepts[root_id], key=lambda cid: (order.get(cid, len(order)), cid))
        story = TopStory(
            **_shown(lead),
            lead=lead_text(lead.title, lead.text),
            concepts=tuple((cid, labels.get(cid, (cid, None))[0]) for cid in named),
            outlets=outlets,
            languages=languages,
            copies=tuple(copies),
        )
        newest = max(h.when for h in articles)
        ranked.append(((-len(outlets), -len(languages), -len(copies), -newest.timestamp(), story.url), story))
    ranked.sort(key=lambda pair: pair[0])
    return tuple(replace(story, rank=i) for i, (_, story) in enumerate(ranked, start=1))


def _shown(row: Any) -> dict[str, Any]:
    """The `ShownArticle` fields of an article row, crawled text cleaned."""
    return {
        "url": row.url,
        "title": clean_text(row.title or "") or row.url,
        "outlet": row.outlet_id,
        "outlet_name": clean_text(row.name),
        "language": row.language,
        "published_at": row.published_at,
    }


def _exact_copies(session: Session, ids: list[int]) -> dict[int, list[str]]:
    """Article id -> URLs recorded as its exact copies, in the order they were seen."""
    found: dict[int, list[str]] = defaultdict(list)
    for article_id, url in session.execute(
        select(ArticleAlias.article_id, ArticleAlias.url)
        .where(ArticleAlias.article_id.in_(ids), ArticleAlias.reason == "exact_duplicate")
        .order_by(ArticleAlias.id)
    ):
        found[article_id].append(url)
    return found


def _other_copies(articles: list[_Hit], details: Mapping[int, Any], exact: Mapping[int, list[str]]) -> list[Copy]:
    """The URLs of a story other than its lead (`articles[0]`): near-duplicates, then exact copies."""
    copies = [_copy(details[h.article_id]) for h in articles[1:]]
    return copies + [Copy(url, None, None, None, None) for h in articles for url in exact.get(h.article_id, [])]


def _copy(row: Any) -> Copy:
    return Copy(row.url, row.outlet_id, clean_text(row.name), row.language, row.published_at)


def _history(hits: list[_Hit], top: list[str], period: Period, labels: dict[str, str]) -> History:
    tz = period.zone
    days = tuple(period.last_day - timedelta(days=k) for k in range(CHART_DAYS - 1, -1, -1))
    index = {day: i for i, day in enumerate(days)}
    roots: dict[str, list[set[int]]] = {cid: [set() for _ in days] for cid in top}
    for hit in hits:
        if hit.concept in roots and (i := index.get(hit.when.astimezone(tz).date())) is not None:
            roots[hit.concept][i].add(hit.root_id)
    series = {cid: tuple(len(s) for s in per_day) for cid, per_day in roots.items()}
    return History(days, series, {cid: labels[cid] for cid in top})


def _outlet_health(session: Session, period: Period, flagged: Counter[str]) -> tuple[OutletHealth, ...]:
    stored = dict(
        session.execute(
            select(Article.outlet_id, func.count())
            .where(Article.dated_at >= period.start, Article.dated_at < period.end)
            .group_by(Article.outlet_id)
        ).all()
    )
    errors = dict(
        session.execute(
            select(CrawlError.outlet_id, func.count())
            .where(CrawlError.at >= period.start, CrawlError.at < period.end, CrawlError.outlet_id.is_not(None))
            .where(CrawlError.kind != CrawlError.NO_TEXT)
            .group_by(CrawlError.outlet_id)
        ).all()
    )
    health = []
    for outlet in session.scalars(select(Outlet).order_by(Outlet.id)):
        articles, failed = stored.get(outlet.id, 0), errors.get(outlet.id, 0)
        status = "silent" if not articles else "errors" if failed else "ok"
        health.append(OutletHealth(outlet.id, clean_text(outlet.name), articles, flagged[outlet.id], failed, status))
    return tuple(health)
