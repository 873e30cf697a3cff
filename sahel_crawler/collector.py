"""Python's cyclic garbage collector tuned for a long crawl.

Pages, items and their deferreds live for a second or more (a store batch), long enough to reach
the collector's oldest generation and set off full collections of the crawler's whole heap, which
pause the reactor. Collecting the youngest generation less often lets most of them die young, and
freezing what exists when the crawl starts (modules, the loaded duplicate index) keeps it out of
every later collection (figures: docs/performance.md).
"""

from __future__ import annotations

import gc
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured


class CollectorTuning:
    """Raise the young-generation threshold and freeze the start-up heap for the crawl's
    duration; Python's settings come back when the engine stops.

    Settings: SAHEL_GC_YOUNG_THRESHOLD (allocations between young collections; Python's default is
    700; 0 leaves the collector alone).
    """

    def __init__(self, young_threshold: int) -> None:
        self.young_threshold = young_threshold
        self._previous: tuple[int, int, int] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CollectorTuning:
        threshold = crawler.settings.getint("SAHEL_GC_YOUNG_THRESHOLD")
        if threshold <= 0:
            raise NotConfigured
        extension = cls(threshold)
        # engine_started comes after the pipelines have opened (the duplicate index is loaded)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        self._previous = gc.get_threshold()
        gc.set_threshold(self.young_threshold, *self._previous[1:])
        gc.freeze()

    def engine_stopped(self) -> None:
        if self._previous is not None:
            gc.unfreeze()
            gc.set_threshold(*self._previous)
            self._previous = None
