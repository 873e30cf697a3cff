"""Progress of a running crawl: a live line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

logger = logging.getLogger(__name__)


class ProgressExtension:
    """Report pages fetched, articles stored and errors every few seconds.

    Settings: SAHEL_PROGRESS_INTERVAL (seconds; 0 disables).
    """

    def __init__(self, stats: Any, interval: float, stream: Any = None) -> None:
        self.stats = stats
        self.interval = interval
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressExtension:
        interval = crawler.settings.getfloat("SAHEL_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        extension = cls(crawler.stats, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def line(self) -> str:
        """One line of counters, as shown to the user."""
        get = self.stats.get_value
        return (
            f"pages {get('response_received_count', 0)}, "
            f"new {get('sahel/new_articles', 0)}, updated {get('sahel/updated_articles', 0)}, "
            f"duplicates {get('sahel/exact_duplicates', 0) + get('sahel/near_duplicates', 0)}, "
            f"no text {get('sahel/no_text', 0)}, errors {get('sahel/errors', 0)}"
        )

    def report(self) -> None:
        if self.live:
            self.stream.write("\r\033[K" + self.line())
            self.stream.flush()
        else:
            logger.info("progress: %s", self.line())

    def spider_opened(self, spider: Any) -> None:
        self._loop = task.LoopingCall(self.report)
        self._loop.start(self.interval, now=False)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._loop and self._loop.running:
            self._loop.stop()
        if self.live:
            self.stream.write("\r\033[K")
            self.stream.flush()
