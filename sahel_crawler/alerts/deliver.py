"""Delivering the alerts whose delivery is due: webhooks, emails, feed files.

Each delivery is sent outside any database transaction and then recorded as sent, or as
failed with its reason and the time of the next attempt (doubling from SAHEL_ALERT_RETRY_SECONDS
up to SAHEL_ALERT_RETRY_MAX_SECONDS). A crash between sending and recording sends it again on
the next run: at least once, never lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from sahel_crawler.alerts.feed import build_feed, write_feed
from sahel_crawler.alerts.payload import alert_html, alert_record, alert_text
from sahel_crawler.alerts.rules import Delivery, WatchRule
from sahel_crawler.alerts.webhook import DeliveryError, post_webhook
from sahel_crawler.digest.mail import MailError, build_message, parse_addresses, parse_smtp_url, send_message
from storage.alerts import alert_of, due_deliveries, mark_failed, mark_sent, rule_alerts
from storage.models import Alert, AlertDelivery

logger = logging.getLogger("sahel.alerts")


@dataclass(frozen=True)
class DeliveryOptions:
    """How to deliver; from the SAHEL_* settings (docs/alerts.md)."""

    smtp_url: str | None
    sender: str | None
    retry_seconds: float
    retry_max_seconds: float
    webhook_timeout: float
    feed_entries: int


@dataclass
class DeliveryCounts:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # their rule or channel is no longer in the watch file
    errors: list[str] = field(default_factory=list)


def retry_delay(options: DeliveryOptions, attempts: int) -> timedelta:
    """The wait before the next attempt of a delivery that has failed `attempts` times."""
    return timedelta(seconds=min(options.retry_max_seconds, options.retry_seconds * 2 ** max(0, attempts - 1)))


def deliver_due(
    factory: sessionmaker[Session], rules: list[WatchRule], options: DeliveryOptions, now: datetime
) -> DeliveryCounts:
    """Send every delivery that is due and record how each went."""
    channels = {rule.id: rule.channels() for rule in rules}
    with factory() as session:
        due = [
            (d.id, d.channel, session.get_one(Alert, d.alert_id).rule_id, d.alert_id)
            for d in due_deliveries(session, now)
        ]
    counts = DeliveryCounts()
    feeds: dict[str, str | None] = {}  # feed channel -> the error of writing it, None when written
    for delivery_id, channel, rule_id, alert_id in due:
        target = channels.get(rule_id, {}).get(channel)
        if target is None:
            counts.skipped += 1
            continue
        try:
            if target.feed is not None:
                if channel not in feeds:
                    feeds[channel] = _write_rule_feed(factory, rule_id, target.feed, options)
                if feeds[channel] is not None:
                    raise DeliveryError(feeds[channel])
            else:
                _send(factory, alert_id, target, options)
        except (DeliveryError, MailError) as exc:
            _record(factory, delivery_id, str(exc), options, now)
            counts.failed += 1
            counts.errors.append(f"{rule_id}: {exc}")
            logger.warning("alert %s of rule %s not delivered: %s (retried later)", alert_id, rule_id, exc)
        else:
            _record(factory, delivery_id, None, options, now)
            counts.sent += 1
    return counts


def _record(
    factory: sessionmaker[Session], delivery_id: int, error: str | None, options: DeliveryOptions, now: datetime
) -> None:
    with factory.begin() as session:
        delivery = session.get_one(AlertDelivery, delivery_id)
        if error is None:
            mark_sent(delivery)
        else:
            mark_failed(delivery, error, now + retry_delay(options, delivery.attempts + 1))


def _write_rule_feed(factory: sessionmaker[Session], rule_id: str, path: str, options: DeliveryOptions) -> str | None:
    with factory() as session:
        data = build_feed(rule_id, rule_alerts(session, rule_id, options.feed_entries))
    try:
        write_feed(path, data)
    except OSError as exc:
        return f"feed {path}: {exc.strerror or exc}"
    return None


def _send(factory: sessionmaker[Session], alert_id: int, target: Delivery, options: DeliveryOptions) -> None:
    with factory() as session:
        alert, articles = alert_of(session, alert_id)
        text, html, record = alert_text(alert, articles), alert_html(alert, articles), alert_record(alert, articles)
    if target.webhook is not None:
        post_webhook(target.webhook, {"text": text, **record}, options.webhook_timeout)
        return
    if not options.smtp_url or not options.sender:
        raise DeliveryError("email: set SAHEL_SMTP_URL and SAHEL_ALERT_FROM to send alert emails")
    try:
        config = parse_smtp_url(options.smtp_url)
        sender = parse_addresses([options.sender], "SAHEL_ALERT_FROM")[0]
    except ValueError as exc:
        raise DeliveryError(f"email: {exc}") from None
    count = len(record["articles"])
    # Crawled text stays out of the headers: the subject holds the rule id and counts only.
    subject = f"Sahel alert {alert.rule_id}: {count} article{'s' if count != 1 else ''}"
    message = build_message(
        subject=subject, sender=sender, recipients=parse_addresses([target.email or ""], "email"), text=text, html=html
    )
    refused = send_message(config, message)
    if refused:
        raise DeliveryError(f"email: the server refused {', '.join(refused)}")
