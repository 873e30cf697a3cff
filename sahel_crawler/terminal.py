"""What a crawl started by `sahel` shows: on a terminal, warnings and errors each on their own
line above a live progress line; elsewhere, Scrapy's plain log lines."""

from __future__ import annotations

import logging
from typing import Any

from rich.console import Console
from rich.text import Text

# The console of the live display, while a `sahel` crawl draws one (None: plain log lines).
_live_console: Console | None = None

# Loggers whose INFO lines say nothing to a user: the schema check's "Context impl SQLiteImpl".
_QUIET_LOGGERS = ("alembic",)


class ConsoleLogHandler(logging.Handler):
    """Each log record as one line printed on a rich console: above its live display, never
    on the end of it. Of an exception only its type and message are kept; the plain log off a
    terminal has the whole traceback."""

    def __init__(self, console: Console, level: int | str = logging.NOTSET) -> None:
        super().__init__(level)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage().strip()
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                message = f"{message}: {type(error).__name__}: {error}"
            style = "red" if record.levelno >= logging.ERROR else "yellow" if record.levelno >= logging.WARNING else ""
            line = Text(f"{record.levelname} {record.name}: ", style=style)
            line.append(" ".join(message.split()))
            self.console.print(line, soft_wrap=True, highlight=False)
        except Exception:
            self.handleError(record)


def live_console() -> Console | None:
    """The console a crawl's progress line is drawn on, or None when the crawl logs plain lines."""
    return _live_console


def setup_crawl_output(settings: Any, log_level: str | None) -> Console | None:
    """Arrange the crawl's output before Scrapy starts; return the live console, if any.

    On a terminal, log records go through a `ConsoleLogHandler` on the console that draws the
    progress line (so a log line never lands on the end of it): warnings and errors only,
    or everything from `log_level` up when one is given. Off a terminal, Scrapy's own plain
    handler at `log_level` (default: the LOG_LEVEL setting). Alembic's INFO lines stay out
    unless `log_level` asks for INFO or more.
    """
    global _live_console  # one crawl per process: its display is process-wide
    level = (log_level or "").upper() or None
    if level is None or logging.getLevelName(level) > logging.INFO:
        for name in _QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    if level is not None:
        settings.set("LOG_LEVEL", level, priority="cmdline")
    console = Console(stderr=True)
    if not console.is_terminal:
        _live_console = None
        return None
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    handler = ConsoleLogHandler(console, level=level or logging.WARNING)
    logging.root.setLevel(logging.NOTSET)
    logging.root.addHandler(handler)
    _live_console = console
    return console
