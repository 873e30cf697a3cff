"""The `sahel` command line: the group of commands, each in its module under commands/.

Exit status: 0 when the command ran (page-level failures of a crawl are logged and counted),
1 when it could not run (database unreachable, ...), 2 for bad usage or configuration.
Every non-zero exit prints a one-line reason; a bad option value is click's usage error, whose
last line gives the reason.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from sahel_crawler.commands.alerts import alerts
from sahel_crawler.commands.backfill import backfill
from sahel_crawler.commands.crawl import crawl
from sahel_crawler.commands.db import db
from sahel_crawler.commands.demo import demo
from sahel_crawler.commands.digest import digest
from sahel_crawler.commands.export import export
from sahel_crawler.commands.health import health
from sahel_crawler.commands.lexicon import lexicon
from sahel_crawler.commands.reflag import reflag
from sahel_crawler.commands.runs import runs
from sahel_crawler.commands.schedule import schedule
from sahel_crawler.commands.search import search_command
from sahel_crawler.commands.sources import sources


class SahelGroup(click.Group):
    """The command group; a reader that stops early (`sahel export | head`) ends the command
    quietly with status 0, as it would end `cat`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # Python flushes standard output again at exit: point it at /dev/null first.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)


@click.group(cls=SahelGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sahel-news-monitor")
def main() -> None:
    """Sahel news monitor: crawl Sahel coverage (ar/fr/en), flag keywords, store it in SQL."""


for command in (crawl, demo, export, runs, reflag, lexicon, digest, schedule, health, db, search_command, alerts):
    main.add_command(command)
main.add_command(backfill)
main.add_command(sources)


if __name__ == "__main__":
    main()
