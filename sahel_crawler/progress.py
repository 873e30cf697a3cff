"""Progress of a running crawl: a live line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text
from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from sahel_crawler.terminal import live_console

logger = logging.getLogger(__name__)


def describe_outlets(outlets: Sequence[Any]) -> str:
    """The line a crawl starts with: which outlets, with their counts of start URLs."""
    listed = ", ".join(f"{o.id} ({len(o.start_urls())} start URLs)" for o in outlets)
    return f"crawling {len(outlets)} outlet{'s' if len(outlets) != 1 else ''}: {listed}"


class ProgressExtension:
    """Say which outlets the crawl covers, then report pages fetched, articles stored, errors and
    the page rate every few seconds: a line redrawn in place on the console of
    `sahel_crawler.terminal`, else INFO log lines.

    Settings: SAHEL_PROGRESS_INTERVAL (seconds; 0 disables).
    """

    def __init__(self, stats: Any, interval: float, console: Console | None = None) -> None:
        self.stats = stats
        self.interval = interval
        self.console = console
        self._live: Live | None = None
        self._loop: task.LoopingCall | None = None
        self._started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressExtension:
        interval = crawler.settings.getfloat("SAHEL_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        extension = cls(crawler.stats, interval, live_console())
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def line(self) -> str:
        """One line of counters, as shown to the user."""
        get = self.stats.get_value
        pages = get("response_received_count", 0)
        rate = pages / max(time.monotonic() - self._started, 1e-9)
        return (
            f"pages {pages}, "
            f"new {get('sahel/new_articles', 0)}, updated {get('sahel/updated_articles', 0)}, "
            f"duplicates {get('sahel/exact_duplicates', 0) + get('sahel/near_duplicates', 0)}, "
            f"no text {get('sahel/no_text', 0)}, errors {get('sahel/errors', 0)}, "
            f"{rate:.1f} pages/s"
        )

    def report(self) -> None:
        if self._live is not None:
            self._live.update(Text(self.line()), refresh=True)
        else:
            logger.info("progress: %s", self.line())

    def spider_opened(self, spider: Any) -> None:
        self._started = time.monotonic()
        plan = describe_outlets(list(getattr(spider, "outlets", {}).values()))
        if self.console is not None:
            self.console.print(plan, markup=False, highlight=False)
            # Drawn on each report only: no refresh thread writing to the terminal meanwhile.
            self._live = Live(Text(self.line()), console=self.console, auto_refresh=False, transient=True)
            self._live.start()
        else:
            logger.info("%s", plan)
        self._loop = task.LoopingCall(self.report)
        self._loop.start(self.interval, now=False)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._loop and self._loop.running:
            self._loop.stop()
        if self._live is not None:
            self._live.stop()
            self._live = None
