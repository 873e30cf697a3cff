"""`sahel alerts`: evaluate watch rules and deliver their alerts (docs/alerts.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from sahel_crawler import settings as project_settings
from sahel_crawler.commands.common import ConfigError, db_option, user_errors
from storage.db import open_database, read_only, session_factory

F = TypeVar("F", bound=Callable[..., Any])


def watch_option(func: F) -> F:
    return click.option(
        "--watch", "watch_path", type=click.Path(dir_okay=False), default=lambda: project_settings.SAHEL_WATCH_PATH,
        show_default="SAHEL_WATCH_PATH", help="Watch rules file (YAML, docs/alerts.md).",
    )(func)  # fmt: skip


def run_watch(db_url: str, watch_path: str | None) -> list[str]:
    """Evaluate and deliver the rules of `watch_path` on the database; the lines to print."""
    from sahel_crawler.alerts.run import delivery_options, load_rules, run_alerts

    if not watch_path:
        raise ConfigError("no watch file: give --watch FILE or set SAHEL_WATCH_PATH")
    with user_errors():
        rules, evaluator = load_rules(watch_path)
        engine = open_database(db_url)
    try:
        report = run_alerts(engine, rules, evaluator, delivery_options())
    finally:
        engine.dispose()
    return report.lines()


@click.group()
def alerts() -> None:
    """Watch rules and their alerts: webhooks, emails, Atom feeds (docs/alerts.md)."""


@alerts.command("run")
@db_option
@watch_option
def run_command(db_url: str, watch_path: str | None) -> None:
    """Evaluate every rule on the articles stored since its last evaluation and deliver the
    new alerts (and the failed deliveries whose retry is due).

    Example: sahel alerts run --watch watch.yaml --db sqlite:///data/sahel.db
    """
    for line in run_watch(db_url, watch_path):
        click.echo(line)


@alerts.command("list")
@db_option
def list_command(db_url: str) -> None:
    """The rules evaluated so far: last evaluation, alerts, deliveries by status, last error.

    Example: sahel alerts list
    """
    from storage.alerts import rule_summaries

    with user_errors():
        engine = open_database(db_url)
    with session_factory(read_only(engine))() as session:
        summaries = rule_summaries(session)
    engine.dispose()
    if not summaries:
        click.echo("no rule evaluated yet (sahel alerts run --watch FILE)", err=True)
    for s in summaries:
        when = f"{s.evaluated_at:%Y-%m-%d %H:%M:%S}" if s.evaluated_at else "never"
        statuses = ", ".join(f"{s.deliveries.get(k, 0)} {k}" for k in ("sent", "pending", "failed"))
        click.echo(f"{s.rule_id}: evaluated {when} UTC, {s.alerts} alerts, deliveries {statuses}")
        if s.last_error:
            click.echo(f"  last failure: {s.last_error}")


@alerts.command("feed")
@click.argument("rule_id")
@db_option
@click.option("--format", "fmt", type=click.Choice(["atom", "rss"]), default="atom", show_default=True)
def feed_command(rule_id: str, db_url: str, fmt: str) -> None:
    """Print a rule's feed of its latest alerts.

    Example: sahel alerts feed fla-jnim --format rss
    """
    from sahel_crawler.alerts.feed import build_feed
    from storage.alerts import rule_alerts, rule_summaries

    with user_errors():
        engine = open_database(db_url)
    with session_factory(read_only(engine))() as session:
        known = [s.rule_id for s in rule_summaries(session)]
        if rule_id not in known:
            engine.dispose()
            raise ConfigError(f"unknown rule {rule_id}; evaluated rules: {', '.join(known) or 'none'}")
        data = build_feed(rule_id, rule_alerts(session, rule_id, project_settings.SAHEL_FEED_ENTRIES), fmt)
    engine.dispose()
    click.echo(data.decode(), nl=False)
