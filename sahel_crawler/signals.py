"""Signals of our own, so that the spider can report failures without touching storage."""

from __future__ import annotations

import logging
from typing import Any

# Sent by the spider for a page, feed or sitemap it could not use.
# Arguments: url (str), kind (str: http, download, feed, sitemap, not_html, ...), reason (str),
# outlet (str | None).
page_failed = object()

# Sent by the spider when a page listed on a feed or sitemap failed in a way the next crawl may
# not meet (a time-out, a 5xx): that listing's validators must not be kept, or the next crawl
# would get 304 for it and never ask for the page again. Argument: url (the listing's URL).
listing_incomplete = object()


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


def report_no_text(stats: Any, signals: Any, url: str, reason: str, outlet: str | None) -> None:
    """Count a fetched page without article text (stat `sahel/no_text`, not an error) and send
    `page_failed` with kind "no_text", so that the run keeps the URL and the reason in crawl_errors."""
    stats.inc_value("sahel/no_text")
    if signals is not None:
        signals.send_catch_log(page_failed, url=url, kind="no_text", reason=reason, outlet=outlet)
