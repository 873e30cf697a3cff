"""`sahel backfill`: read a past period of outlets from their archives, through the crawl's pipeline."""

from __future__ import annotations

import hashlib
from contextlib import ExitStack
from datetime import datetime

import click

from sahel_crawler.commands.common import (
    SINCE,
    UNTIL,
    CommandFailed,
    ConfigError,
    check_period,
    db_option,
    parse_overrides,
    user_errors,
)
from sahel_crawler.commands.crawl import chosen_log_level, log_options, print_run_summary, run_locked


@click.command()
@click.option("--outlet", "outlets", multiple=True, required=True, help="Outlet id of the registry (repeatable).")
@click.option("--since", type=SINCE, required=True, help="Start of the period (YYYY-MM-DD or ISO 8601, UTC).")
@click.option("--until", type=UNTIL, help="End of the period (a bare date includes that day; default: now).")
@click.option(
    "--source", type=click.Choice(["sitemaps", "wayback", "warc"]), default="sitemaps", show_default=True,
    help="The outlets' archive sitemaps (archive_sitemaps: in the registry), the Wayback Machine, or WARC files.",
)  # fmt: skip
@click.option(
    "--warc", "warcs", multiple=True, metavar="PATH_OR_GLOB", help="WARC file(s) of --source warc (repeatable)."
)
@click.option(
    "--order", type=click.Choice(["newest", "oldest"]), default="newest", show_default=True, help="Months read first."
)
@click.option("--sources", "sources_path", type=click.Path(), help="Sources registry (YAML).")
@db_option
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting.")
@log_options
def backfill(
    outlets: tuple[str, ...],
    since: datetime,
    until: datetime | None,
    source: str,
    warcs: tuple[str, ...],
    order: str,
    sources_path: str | None,
    db_url: str,
    overrides: tuple[str, ...],
    verbose: bool,
    log_level: str | None,
) -> None:
    """Store the articles an outlet published in a past period, from its archive.

    Resumable: a month read in full is not read again, and an interrupted backfill continues
    (stored articles are skipped before any download). Runs, errors and counts are recorded as
    for a crawl (`sahel runs`). See docs/operations.md.

    Example: sahel backfill --outlet france24 --since 2026-01-01 --until 2026-06-30

    From Common Crawl's news archive:
    sahel backfill --outlet france24 --since 2026-09-01 --source warc --warc 'CC-NEWS-202609*.warc.gz'
    """
    from sahel_crawler.crawl import checked_crawl_inputs, crawl_failure, crawl_settings
    from sahel_crawler.sources import load_registry
    from sahel_crawler.spiders.backfill import add_backfill_components, warc_paths
    from sahel_crawler.terminal import setup_crawl_output

    check_period(since, until)
    if source == "warc" and not warcs:
        raise click.UsageError("--source warc reads the files given with --warc PATH_OR_GLOB")
    if warcs and source != "warc":
        raise click.UsageError("--warc is read by --source warc only")
    extra: dict[str, object] = {
        "SAHEL_BACKFILL_SOURCE": source,
        "SAHEL_BACKFILL_SINCE": since.isoformat(),
        "SAHEL_BACKFILL_ORDER": order,
        **({"SAHEL_BACKFILL_UNTIL": until.isoformat()} if until else {}),
        **({"SAHEL_BACKFILL_WARC": list(warcs)} if warcs else {}),
        **parse_overrides(overrides),
    }
    settings = crawl_settings(db_url=db_url, sources_path=sources_path, outlets=outlets, overrides=extra)
    # Here too, not only in the spider's update_settings: Scrapy lays these settings over the
    # crawler's again when it starts it, and a `-s EXTENSIONS=...` would then drop them.
    add_backfill_components(settings)
    with ExitStack() as held:  # the backfill's components share the engine held here
        with user_errors():
            selected = held.enter_context(checked_crawl_inputs(settings))
            files = warc_paths(settings.getlist("SAHEL_BACKFILL_WARC"))
        if source == "sitemaps":
            missing = [outlet.id for outlet in selected if not outlet.archive_sitemaps]
            if missing:
                registry = load_registry(settings.get("SAHEL_SOURCES_PATH") or None)
                raise ConfigError(
                    f"outlet {missing[0]} lists no archive_sitemaps in {registry.path}: use --source wayback or warc"
                )
        # Backfills of one outlet from other archive sources or WARC files may run side by side (on
        # several machines, into one database), and beside its live crawls: stored articles are upserted.
        reading = (
            source if source != "warc" else "warc-" + hashlib.sha1("\n".join(sorted(files)).encode()).hexdigest()[:12]
        )
        setup_crawl_output(settings, chosen_log_level(verbose, log_level))
        stats = run_locked(settings, [f"{outlet.id}-backfill-{reading}" for outlet in selected], spider="backfill")
        if stats is None:
            return
        failure = crawl_failure(stats, print_run_summary(settings["SAHEL_DB_URL"], stats.get("sahel/run_id")))
        if failure is not None:
            raise CommandFailed(failure)
