"""`scrapy crawl news`: Scrapy's own command, refusing a bad outlet, sources file or setting with
one line (exit status 2) before anything starts, as `sahel crawl` does."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from sahel_crawler.sources import RegistryError
from storage.db import DatabaseError


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        from sahel_crawler.crawl import check_crawl_inputs

        if args == ["news"] and self.settings is not None:
            settings = self.settings.copy()
            outlets = opts.spargs.get("outlets")
            if outlets:
                settings.set("SAHEL_OUTLETS", outlets, priority="cmdline")
            try:
                check_crawl_inputs(settings)
            except (RegistryError, ValueError) as exc:
                self._refuse(str(exc), 2)
                return
            except DatabaseError as exc:
                self._refuse(str(exc), 1)
                return
        super().run(args, opts)

    def _refuse(self, reason: str, exit_code: int) -> None:
        print(f"scrapy: error: {reason}", file=sys.stderr)
        self.exitcode = exit_code
