"""Stopping a crawl's helpers (the database thread, the extraction workers) exactly once: when
the spider closes, or when the reactor shuts down first.

A reactor stopped outright (a second Ctrl-C) never closes the spider; a helper left running
then keeps Python's exit waiting forever.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any


def running_reactor() -> Any:
    """The installed Twisted reactor when it is running, else None (no reactor import side effect)."""
    if "twisted.internet.reactor" not in sys.modules:
        return None
    from twisted.internet import reactor

    return reactor if reactor.running else None


class StopOnce:
    """`stop`, run by the first call: the owner's close, or the reactor's shutdown when a reactor
    is running (registered as a shutdown trigger, taken off again when the owner calls first)."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop: Callable[[], None] | None = stop
        self._reactor = running_reactor()
        self._trigger = self._reactor.addSystemEventTrigger("during", "shutdown", self) if self._reactor else None

    def __call__(self) -> None:
        stop, self._stop = self._stop, None
        if stop is None:
            return
        trigger, self._trigger = self._trigger, None
        if trigger is not None:
            # Called by that very trigger when the reactor shuts down first: Twisted has already
            # taken it off its list then.
            with contextlib.suppress(ValueError):
                self._reactor.removeSystemEventTrigger(trigger)
        stop()
