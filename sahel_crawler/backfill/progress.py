"""Progress of a backfill: the crawl's progress line with months, rate and time left."""

from __future__ import annotations

import time

from sahel_crawler.progress import ProgressExtension


class BackfillProgress(ProgressExtension):
    """The crawl's progress report (a line redrawn in place on a terminal, log lines otherwise)
    for a backfill.

    Settings: SAHEL_PROGRESS_INTERVAL (seconds; 0 disables).
    """

    def handled(self) -> int:
        """Listed articles the run is done with: stored, duplicate, without text, skipped or failed."""
        get = self.stats.get_value
        names = ("new_articles", "updated_articles", "exact_duplicates", "near_duplicates", "no_text", "skipped_seen")
        return sum(get(f"sahel/{name}", 0) for name in names) + get("sahel/errors", 0)

    def line(self) -> str:
        """Months listed of the period's, then the crawl's counters, rate and time left."""
        get = self.stats.get_value
        months = get("sahel/backfill_months_listed", 0) + get("sahel/backfill_months_done_before", 0)
        listed, handled = get("sahel/backfill_listed", 0), self.handled()
        rate = handled / max(time.monotonic() - self._started, 1e-9)
        left = f"{max(listed - handled, 0) / rate:.0f} s" if rate > 0 else "?"
        return (
            f"months {months}/{get('sahel/backfill_months_total', 0)}, listed {listed}, "
            f"{super().line()}, {rate:.1f} articles/s, left {left}"
        )
