"""Evaluating watch rules on the articles stored (or re-flagged) since each rule's last
evaluation, recording one alert per rule and story with a pending delivery per channel.

Each rule is evaluated in one transaction that also moves its watermarks: a crash (kill -9)
before the commit leaves the articles to the next run; after it, the pending deliveries are
in the database for the next delivery pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from sahel_crawler.alerts.rules import WatchRule
from sahel_crawler.query import ArticleFacts, QueryEvaluator
from sahel_crawler.query.ast import required_concepts
from storage.alerts import (
    NewAlert,
    last_article_id,
    record_alert,
    requeued_since,
    rule_state,
    story_article_ids,
)
from storage.models import Article
from storage.query_rows import articles_after, articles_by_id
from storage.spikes import stories_flagged

BASELINE_DAYS = 7


@dataclass(frozen=True)
class Evaluation:
    rule_id: str
    articles: int  # articles looked at
    new_alerts: int


def evaluate_rules(
    factory: sessionmaker[Session], rules: list[WatchRule], evaluator: QueryEvaluator, now: datetime
) -> list[Evaluation]:
    """Evaluate every rule once; return what each looked at and alerted."""
    results = []
    # An article's folded words and concept places are worked out once for all the rules.
    analysed: dict[int, ArticleFacts] = {}
    for rule in rules:
        with factory.begin() as session:
            if rule.node is None:
                results.append(_breaking(session, rule, evaluator, now))
            else:
                results.append(_query_rule(session, rule, evaluator, now, analysed))
    return results


def _query_rule(
    session: Session, rule: WatchRule, evaluator: QueryEvaluator, now: datetime, analysed: dict[int, ArticleFacts]
) -> Evaluation:
    assert rule.node is not None
    state = rule_state(session, rule.id, rule.definition)
    top = last_article_id(session)
    requeued, last_requeue = requeued_since(session, state.last_requeue_id)
    required = required_concepts(rule.node)
    rows = [row for batch in articles_after(session, state.last_article_id, top, required) for row in batch]
    rows += [row for row in articles_by_id(session, requeued) if row[0] <= state.last_article_id]
    stories: dict[int, list[ArticleFacts]] = {}
    for row in rows:
        facts = analysed.get(row[0])
        if facts is None or facts != ArticleFacts(*row):
            facts = analysed[row[0]] = ArticleFacts(*row)
        if evaluator.matches(rule.node, facts):
            stories.setdefault(facts.duplicate_of or facts.article_id, []).append(facts)
    new = 0
    channels = list(rule.channels())
    for story_id, matched in stories.items():
        first = session.get(Article, story_id)
        concepts = sorted(set().union(*(facts.concepts for facts in matched)))
        found = NewAlert(
            key=f"story:{story_id}",
            story_id=story_id,
            title=(first.title if first is not None else None) or matched[0].title or matched[0].url,
            concepts=tuple(concepts),
            snippet=evaluator.snippet(rule.node, matched[0]),
            article_ids=tuple(sorted({*story_article_ids(session, story_id), *(f.article_id for f in matched)})),
        )
        new += record_alert(session, rule.id, found, channels, now)
    state.last_article_id = max(state.last_article_id, top)
    state.last_requeue_id = last_requeue
    state.evaluated_at = now
    return Evaluation(rule.id, len(rows), new)


def _breaking(session: Session, rule: WatchRule, evaluator: QueryEvaluator, now: datetime) -> Evaluation:
    """One alert per concept and window when its stories in the last window reach
    `min_stories` and `factor` times their mean in the same hours of the previous days."""
    spec = rule.spec.breaking
    assert spec is not None
    state = rule_state(session, rule.id, rule.definition)
    window = timedelta(hours=spec.window_hours)
    new = 0
    for concept in evaluator.lexicon.concept_ids(spec.concepts):
        stories = stories_flagged(session, [concept], now - window, now)
        past = [
            len(stories_flagged(session, [concept], now - window - timedelta(days=d), now - timedelta(days=d)))
            for d in range(1, BASELINE_DAYS + 1)
        ]
        usual = sum(past) / BASELINE_DAYS
        if len(stories) < spec.min_stories or len(stories) < spec.factor * usual:
            continue
        bucket = int(now.timestamp() // window.total_seconds())
        label = evaluator.lexicon.concepts[concept].labels.get("en") or concept
        found = NewAlert(
            key=f"spike:{concept}:{bucket}",
            story_id=None,
            title=f"Breaking: {label}: {len(stories)} stories in {spec.window_hours:g} h (usually {usual:.1f})",
            concepts=(concept,),
            snippet="",
            article_ids=tuple(stories),
        )
        new += record_alert(session, rule.id, found, list(rule.channels()), now)
    state.evaluated_at = now
    return Evaluation(rule.id, 0, new)
