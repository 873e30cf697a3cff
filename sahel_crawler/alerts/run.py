"""One alerts pass: evaluate every rule, then deliver what is due (`sahel alerts run`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from sahel_crawler import settings as project_settings
from sahel_crawler.alerts.deliver import DeliveryCounts, DeliveryOptions, deliver_due
from sahel_crawler.alerts.engine import Evaluation, evaluate_rules
from sahel_crawler.alerts.rules import WatchRule, load_watch
from sahel_crawler.lexicon import load_lexicon
from sahel_crawler.query import QueryEvaluator
from storage.db import session_factory
from storage.models import utcnow


@dataclass(frozen=True)
class AlertsReport:
    evaluations: list[Evaluation]
    deliveries: DeliveryCounts

    def lines(self) -> list[str]:
        """What `sahel alerts run` prints."""
        lines = [
            f"rule {e.rule_id}: {e.articles} articles evaluated, {e.new_alerts} new alerts" for e in self.evaluations
        ]
        d = self.deliveries
        lines.append(f"deliveries: {d.sent} sent, {d.failed} failed (retried later), {d.skipped} skipped")
        return lines + [f"failed: {error}" for error in d.errors]


def delivery_options() -> DeliveryOptions:
    """The delivery settings of settings.py (and the environment)."""
    return DeliveryOptions(
        smtp_url=project_settings.SAHEL_SMTP_URL,
        sender=project_settings.SAHEL_ALERT_FROM,
        retry_seconds=project_settings.SAHEL_ALERT_RETRY_SECONDS,
        retry_max_seconds=project_settings.SAHEL_ALERT_RETRY_MAX_SECONDS,
        webhook_timeout=project_settings.SAHEL_WEBHOOK_TIMEOUT,
        feed_entries=project_settings.SAHEL_FEED_ENTRIES,
    )


def load_rules(watch_path: str | Path) -> tuple[list[WatchRule], QueryEvaluator]:
    """The watch file's rules and the evaluator of the configured lexicon; WatchError when bad."""
    evaluator = QueryEvaluator(load_lexicon(project_settings.SAHEL_LEXICON_PATH))
    return load_watch(watch_path, evaluator), evaluator


def run_alerts(
    engine: Engine,
    rules: list[WatchRule],
    evaluator: QueryEvaluator,
    options: DeliveryOptions,
    now: datetime | None = None,
) -> AlertsReport:
    """Evaluate every rule on what is new since its last evaluation, then deliver what is due."""
    now = now or utcnow()
    factory = session_factory(engine)
    evaluations = evaluate_rules(factory, rules, evaluator, now)
    return AlertsReport(evaluations, deliver_due(factory, rules, options, now))
