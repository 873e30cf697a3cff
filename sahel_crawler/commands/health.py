"""`sahel health`: per outlet, the last successful crawl, recent output, errors and warning flags."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

import click

from sahel_crawler.commands.common import db_option, reading_database
from sahel_crawler.commands.tables import print_table
from sahel_crawler.interrupted import try_close_dead_runs
from storage.db import session_factory, writable

# The longest --silent-after: ten years (a timedelta of 1e12 hours, or inf, cannot be made).
MAX_SILENT_HOURS = 24 * 3653


class Number(click.FloatRange):
    """A FloatRange that refuses nan, which fails no comparison and so passes any range."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


def _status(h: Any) -> str:
    """The status word, with what the outlet answers and since when for a blocked one."""
    if h.status == "blocked":
        return f"blocked ({h.blocked_status} since {_when(h.blocked_since)} UTC)"
    return ", ".join([h.status, *(f for f in h.flags if f != h.status)])


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"


@click.command()
@db_option
@click.option(
    "--silent-after", type=Number(0, MAX_SILENT_HOURS, min_open=True), default=24.0, show_default=True,
    metavar="HOURS", help="Flag an outlet with no new article for this long.",
)  # fmt: skip
@click.option(
    "--shrink-ratio", type=Number(0, 1, min_open=True, max_open=True), default=0.5, show_default=True,
    help="Flag an outlet whose recent texts' median length fell below this share of the usual.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="One JSON object per outlet, one per line.")
def health(db_url: str, silent_after: float, shrink_ratio: float, as_json: bool) -> None:
    """Report per outlet: last successful crawl, articles and runs in the last 24 hours,
    error rate, and a status: "blocked" (its article pages answer 401/403/429/451 since its
    last readable page: the status and since when are shown), "failing" (most runs failed),
    "silent" (nothing new for --silent-after hours), "shrinking" (extracted texts suddenly much
    shorter: its markup may have changed) or "ok".

    Example: sahel health --silent-after 12
    """
    from storage.alerts import failed_deliveries
    from storage.health import HealthThresholds, outlet_health

    limits = HealthThresholds(silent_after=timedelta(hours=silent_after), shrink_ratio=shrink_ratio)
    with reading_database(db_url) as engine:
        try_close_dead_runs(writable(engine))
        with session_factory(engine)() as session:
            report = outlet_health(session, thresholds=limits)
            failed = failed_deliveries(session)
    if failed:  # on standard error beside the JSON lines, below the table otherwise
        notice = f"{failed} alert deliver{'y' if failed == 1 else 'ies'} failed, retried later (sahel alerts list)"
        click.echo(notice, err=as_json)
    if as_json:
        for h in report:
            record = {
                "outlet": h.outlet,
                "last_success": h.last_success.isoformat() if h.last_success else None,
                "last_article_at": h.last_article_at.isoformat() if h.last_article_at else None,
                "articles_24h": h.articles_in_window,
                "runs_24h": h.runs_in_window,
                "failed_runs_24h": h.failed_runs_in_window,
                "error_rate": h.error_rate,
                "page_errors_24h": h.page_errors_in_window,
                "recent_median_chars": h.recent_median_chars,
                "usual_median_chars": h.baseline_median_chars,
                "flags": h.flags,
                "status": h.status,
                "blocked_since": h.blocked_since.isoformat() if h.blocked_since else None,
                "blocked_status": h.blocked_status,
            }
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    columns = (
        ("outlet", "left"),
        ("last success (UTC)", "left"),
        ("new 24h", "right"),
        ("runs", "right"),
        ("failed", "right"),
        ("errors", "right"),
        ("median chars (newest/before)", "right"),
        ("status", "left"),
    )
    rows = [
        (
            h.outlet,
            _when(h.last_success),
            h.articles_in_window,
            h.runs_in_window,
            f"{h.error_rate:.0%}" if h.error_rate is not None else "-",
            h.page_errors_in_window,
            f"{h.recent_median_chars or '-'}/{h.baseline_median_chars or '-'}",
            _status(h),
        )
        for h in report
    ]
    print_table(columns, rows)
    click.echo(
        f"median chars: median text length of the outlet's {limits.recent_size} newest articles / "
        f"of the {limits.baseline_size} before them (- with fewer than {limits.min_samples})"
    )
