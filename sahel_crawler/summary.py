"""Plain-text summaries of what a crawl did and what the database holds."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage import repository as repo
from storage.models import CrawlRun


def run_summary(session: Session, run_id: int | None) -> str:
    """Counters of one crawl run and the stored articles per outlet and language."""
    lines = []
    run = session.get(CrawlRun, run_id) if run_id is not None else None
    if run is not None:
        took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
        # Scrapy's finish reason says more only when it is not the status itself ("shutdown").
        why = f" (finish reason: {run.finish_reason})" if run.finish_reason not in (None, run.status) else ""
        lines.append(f"crawl run {run.id} of {run.outlets.replace(',', ', ')}: {run.status}{why} in {took:.1f} s")
        lines.append(
            f"  requests {run.requests}, pages {run.pages_fetched}, new {run.new_articles}, "
            f"updated {run.updated_articles}, exact duplicates {run.exact_duplicates}, "
            f"near duplicates {run.near_duplicates}, already stored {run.skipped_seen}, "
            f"not modified {run.not_modified}, no text {run.no_text}, errors {run.errors}"
        )
    rows = repo.articles_per_outlet_and_language(session)
    lines.append(f"articles in the database: {sum(n for _, _, n in rows)}")
    if rows:
        lines.append(f"  {'outlet':<20} {'language':<9} {'articles':>8}")
        lines.extend(f"  {outlet:<20} {lang or '?':<9} {n:>8}" for outlet, lang, n in rows)
    return "\n".join(lines)
