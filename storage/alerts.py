"""Alerts of watch rules: evaluation state, alerts (once per rule and story), the articles they
list, deliveries per channel, and re-flagged articles to evaluate again.

Functions take a session and never commit. Every value reaches the database as a bound parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Alert, AlertArticle, AlertDelivery, AlertRequeue, AlertRule, Article, utcnow


@dataclass(frozen=True)
class NewAlert:
    """What evaluation found: an alert to record (if its key is new for the rule)."""

    key: str
    story_id: int | None
    title: str
    concepts: tuple[str, ...]
    snippet: str
    article_ids: tuple[int, ...]


@dataclass(frozen=True)
class RuleSummary:
    """A rule's evaluation state and its deliveries by status, for `sahel alerts list`."""

    rule_id: str
    evaluated_at: datetime | None
    alerts: int
    deliveries: dict[str, int]
    last_error: str | None


def rule_state(session: Session, rule_id: str, definition: str) -> AlertRule:
    """The rule's evaluation state, created (nothing evaluated yet) on first use."""
    state = session.get(AlertRule, rule_id)
    if state is None:
        state = AlertRule(rule_id=rule_id, definition=definition, last_article_id=0, last_requeue_id=0)
        session.add(state)
    state.definition = definition
    return state


def requeue_articles(session: Session, article_ids: Iterable[int]) -> None:
    """Have every rule evaluate these articles again (their concepts changed)."""
    session.add_all(AlertRequeue(article_id=article_id) for article_id in article_ids)


def requeued_since(session: Session, last_id: int) -> tuple[list[int], int]:
    """Articles re-flagged after the re-flagging `last_id`, and the last re-flagging's id."""
    rows = session.execute(select(AlertRequeue.id, AlertRequeue.article_id).where(AlertRequeue.id > last_id)).all()
    return sorted({article for _, article in rows}), max((row_id for row_id, _ in rows), default=last_id)


def last_article_id(session: Session) -> int:
    """The id of the latest stored article (0 when none)."""
    return session.scalar(select(func.max(Article.id))) or 0


def story_article_ids(session: Session, story_id: int) -> list[int]:
    """A story's articles: its first article and the near-duplicate copies of it."""
    copies = select(Article.id).where(Article.duplicate_of_id == story_id)
    return sorted({story_id, *session.scalars(copies)})


def record_alert(session: Session, rule_id: str, found: NewAlert, channels: Iterable[str], now: datetime) -> bool:
    """Record an alert with a delivery per channel due `now`; True when it is new. An alert the
    rule already has for this key only gains the articles it did not list (sent nothing again)."""
    alert = session.scalar(select(Alert).where(Alert.rule_id == rule_id, Alert.key == found.key))
    is_new = alert is None
    if alert is None:
        alert = Alert(
            rule_id=rule_id, key=found.key, story_id=found.story_id, title=found.title,
            concepts=",".join(found.concepts), snippet=found.snippet, created_at=now,
        )  # fmt: skip
        session.add(alert)
        session.flush()
        session.add_all(
            AlertDelivery(alert_id=alert.id, channel=c, status="pending", attempts=0, next_attempt_at=now)
            for c in channels
        )
    listed = set(session.scalars(select(AlertArticle.article_id).where(AlertArticle.alert_id == alert.id)))
    session.add_all(AlertArticle(alert_id=alert.id, article_id=a) for a in found.article_ids if a not in listed)
    return is_new


def due_deliveries(session: Session, now: datetime) -> list[AlertDelivery]:
    """Deliveries not sent yet whose (next) attempt is due, oldest first."""
    statement = (
        select(AlertDelivery)
        .where(AlertDelivery.status != "sent", AlertDelivery.next_attempt_at <= now)
        .order_by(AlertDelivery.id)
    )
    return list(session.scalars(statement))


def mark_sent(delivery: AlertDelivery) -> None:
    delivery.status = "sent"
    delivery.attempts += 1
    delivery.sent_at = utcnow()
    delivery.last_error = None


def mark_failed(delivery: AlertDelivery, reason: str, retry_at: datetime) -> None:
    delivery.status = "failed"
    delivery.attempts += 1
    delivery.last_error = reason
    delivery.next_attempt_at = retry_at


def alert_of(session: Session, alert_id: int) -> tuple[Alert, list[Article]]:
    """An alert and the articles it lists, oldest first."""
    alert = session.get_one(Alert, alert_id)
    ids = select(AlertArticle.article_id).where(AlertArticle.alert_id == alert_id)
    articles = list(session.scalars(select(Article).where(Article.id.in_(ids)).order_by(Article.id)))
    return alert, articles


def rule_alerts(session: Session, rule_id: str, limit: int) -> list[tuple[Alert, list[Article]]]:
    """The rule's latest alerts, newest first, each with its articles."""
    ids = session.scalars(select(Alert.id).where(Alert.rule_id == rule_id).order_by(Alert.id.desc()).limit(limit)).all()
    return [alert_of(session, alert_id) for alert_id in ids]


def rule_summaries(session: Session) -> list[RuleSummary]:
    """Every rule evaluated so far, with its alert count and deliveries by status."""
    summaries = []
    for state in session.scalars(select(AlertRule).order_by(AlertRule.rule_id)):
        alerts = select(Alert.id).where(Alert.rule_id == state.rule_id)
        counts = session.execute(
            select(AlertDelivery.status, func.count())
            .where(AlertDelivery.alert_id.in_(alerts))
            .group_by(AlertDelivery.status)
        ).all()
        error = session.scalar(
            select(AlertDelivery.last_error)
            .where(AlertDelivery.alert_id.in_(alerts), AlertDelivery.status == "failed")
            .order_by(AlertDelivery.id.desc())
            .limit(1)
        )
        total = session.scalar(select(func.count()).select_from(alerts.subquery())) or 0
        summaries.append(RuleSummary(state.rule_id, state.evaluated_at, total, dict(counts), error))  # type: ignore[arg-type]
    return summaries


def failed_deliveries(session: Session) -> int:
    """How many deliveries are waiting for a retry after a failure."""
    return session.scalar(select(func.count()).where(AlertDelivery.status == "failed")) or 0
