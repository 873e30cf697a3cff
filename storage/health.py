"""Source health: per outlet, is it still producing, and does what it produces still look right?

Functions take a session and never commit. Times are aware UTC; "new" articles are counted by
the time they were first stored (`fetched_at`), since publication dates can be missing or wrong.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from storage.models import Article, CrawlError, CrawlRun, Outlet, utcnow

# An outlet most of whose crawl runs in the window failed is "failing".
FAILING_RATE = 0.5
# A run that ended without finishing: stopped by an error, or its process gone (kill -9).
FAILED_STATUSES = ("failed", "interrupted")


@dataclass(frozen=True)
class HealthThresholds:
    """When an outlet is flagged.

    silent_after: no new article for this long (or never one, for an outlet known this long).
    shrink_ratio: the median text length of its `recent_size` newest articles fell below this
    share of the median of the `baseline_size` before them (at least `min_samples` in each).
    window: the period of the counts (articles, runs, errors).
    """

    silent_after: timedelta = timedelta(hours=24)
    shrink_ratio: float = 0.5
    recent_size: int = 5
    baseline_size: int = 30
    min_samples: int = 3
    window: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class OutletHealth:
    """The health of one outlet at one moment."""

    outlet: str
    name: str
    last_success: datetime | None  # end of the latest finished crawl run that covered it
    last_article_at: datetime | None  # when its newest article was first stored
    articles_in_window: int
    runs_in_window: int
    failed_runs_in_window: int
    page_errors_in_window: int
    recent_median_chars: int | None
    baseline_median_chars: int | None
    silent: bool
    shrinking: bool
    # the outlet refuses its article pages (crawl_errors of kind "blocked" since its last page)
    blocked_since: datetime | None = None
    blocked_status: str | None = None  # e.g. "HTTP 403"

    @property
    def status(self) -> str:
        """One word: "blocked", "failing" (most runs failed), "silent", "shrinking" or "ok"."""
        if self.blocked_since is not None:
            return "blocked"
        if self.error_rate is not None and self.error_rate >= FAILING_RATE:
            return "failing"
        return self.flags[0] if self.flags else "ok"

    @property
    def error_rate(self) -> float | None:
        """Share of its crawl runs in the window that failed (None without runs)."""
        return self.failed_runs_in_window / self.runs_in_window if self.runs_in_window else None

    @property
    def flags(self) -> list[str]:
        """ "silent" and/or "shrinking"; empty for a healthy outlet."""
        return [name for name, on in (("silent", self.silent), ("shrinking", self.shrinking)) if on]


def outlet_health(
    session: Session, *, now: datetime | None = None, thresholds: HealthThresholds | None = None
) -> list[OutletHealth]:
    """The health of every outlet the database knows, ordered by outlet id."""
    now = now or utcnow()
    limits = thresholds or HealthThresholds()
    since = now - limits.window
    outlets = session.scalars(select(Outlet).order_by(Outlet.id))
    return [_one(session, outlet, now, since, limits) for outlet in outlets]


def _one(
    session: Session,
    outlet: Outlet,
    now: datetime,
    since: datetime,
    limits: HealthThresholds,
) -> OutletHealth:
    # crawl_runs.outlets is comma-separated; autoescape keeps "_" in ids from acting as a wildcard.
    covers = (literal(",") + CrawlRun.outlets + literal(",")).contains(f",{outlet.id},", autoescape=True)
    in_window = list(session.scalars(select(CrawlRun).where(covers, CrawlRun.started_at >= since)))
    last_success = session.scalar(select(func.max(CrawlRun.finished_at)).where(covers, CrawlRun.status == "finished"))
    mine = Article.outlet_id == outlet.id
    last_article = session.scalar(select(func.max(Article.fetched_at)).where(mine))
    articles = session.scalar(select(func.count()).where(mine, Article.fetched_at >= since)) or 0
    page_errors = session.scalar(
        select(func.count())
        .select_from(CrawlError)
        .where(CrawlError.outlet_id == outlet.id, CrawlError.at >= since, CrawlError.kind != CrawlError.NO_TEXT)
    )
    lengths = list(
        session.scalars(
            select(func.length(Article.text))
            .where(mine)
            .order_by(Article.fetched_at.desc(), Article.id.desc())
            .limit(limits.recent_size + limits.baseline_size)
        )
    )
    recent, baseline = lengths[: limits.recent_size], lengths[limits.recent_size :]
    recent_median = int(statistics.median(recent)) if len(recent) >= limits.min_samples else None
    baseline_median = int(statistics.median(baseline)) if len(baseline) >= limits.min_samples else None
    shrinking = (
        recent_median is not None
        and baseline_median is not None
        and len(recent) >= limits.recent_size
        and recent_median < limits.shrink_ratio * baseline_median
    )
    produced_since = last_article or outlet.first_seen_at
    blocked_since, blocked_status = _blocked(session, outlet.id)
    return OutletHealth(
        outlet=outlet.id,
        name=outlet.name,
        last_success=last_success,
        last_article_at=last_article,
        articles_in_window=articles,
        runs_in_window=len(in_window),
        failed_runs_in_window=sum(1 for r in in_window if r.status in FAILED_STATUSES),
        page_errors_in_window=page_errors or 0,
        recent_median_chars=recent_median,
        baseline_median_chars=baseline_median,
        silent=produced_since is None or now - produced_since > limits.silent_after,
        shrinking=shrinking,
        blocked_since=blocked_since,
        blocked_status=blocked_status,
    )


def _blocked(session: Session, outlet_id: str) -> tuple[datetime | None, str | None]:
    """(since when, the latest status) of the refusals recorded after the outlet's last stored
    page; (None, None) when it has served a page since, or never refused one."""
    page = (Article.outlet_id == outlet_id) & (Article.text_source == "page")
    last_page = session.scalar(select(func.max(func.coalesce(Article.updated_at, Article.fetched_at))).where(page))
    refused = (CrawlError.outlet_id == outlet_id) & (CrawlError.kind == "blocked")
    if last_page is not None:
        refused &= CrawlError.at > last_page
    since = session.scalar(select(func.min(CrawlError.at)).where(refused))
    if since is None:
        return None, None
    latest = session.scalar(select(CrawlError.reason).where(refused).order_by(CrawlError.at.desc()).limit(1))
    return since, (latest or "").split(":")[0] or None
