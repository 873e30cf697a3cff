"""Signals of our own, so that the spider can report failures without touching storage."""

from __future__ import annotations

import logging
from typing import Any

# Sent by the spider for a page, feed or sitemap it could not use.
# Arguments: url (str), kind (str: http, download, feed, sitemap, not_html, ...), reason (str),
# outlet (str | None).
page_failed = object()


def report_failure(
    stats: Any,
    signals: Any,
    log: logging.Logger | logging.LoggerAdapter[Any],
    url: str,
    kind: str,
    reason: str,
    outlet: str | None,
) -> None:
    """Log a page-level failure with its URL and reason, count it (stats `sahel/errors` and
    `sahel/errors/<kind>`) and send `page_failed` (stored as a crawl_errors row of the run).
    `signals` may be None outside a crawl."""
    log.warning("%s failed (%s): %s", url, kind, reason)
    stats.inc_value("sahel/errors")
    stats.inc_value(f"sahel/errors/{kind}")
    if signals is not None:
        signals.send_catch_log(page_failed, url=url, kind=kind, reason=reason, outlet=outlet)
