"""Log lines for dropped items that name the URL and the reason, never the whole page."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter


class SahelLogFormatter(logformatter.LogFormatter):
    """Dropped items (pages without article text, duplicates) are expected: log them at INFO,
    with the URL instead of the item's repr (which would print the whole HTML page)."""

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> dict[str, Any]:
        return {
            "level": logging.INFO,
            "msg": "skipped %(url)s: %(reason)s",
            "args": {"url": getattr(item, "url", "?"), "reason": exception},
        }

    def scraped(self, item: Any, response: Any, spider: Any) -> dict[str, Any]:
        return {
            "level": logging.DEBUG,
            "msg": "stored %(url)s",
            "args": {"url": getattr(item, "canonical_url", None) or getattr(item, "url", "?")},
        }
