"""The `sahel` command line: glue between the user and the library functions, nothing more.

Exit status: 0 when the command ran (page-level failures of a crawl are logged and counted),
1 when it could not run (database unreachable, ...), 2 for bad usage or configuration.
Every non-zero exit prints a one-line reason; a bad option value is click's usage error, whose
last line gives the reason.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sahel_crawler import settings as project_settings
from sahel_crawler.commands.backfill import backfill
from sahel_crawler.commands.common import (
    SINCE,
    UNTIL,
    Failure,
    db_option,
    parse_overrides,
    user_errors,
)
from sahel_crawler.commands.db import db
from sahel_crawler.commands.digest import digest
from sahel_crawler.commands.health import health
from sahel_crawler.commands.lexicon import lexicon
from sahel_crawler.commands.schedule import schedule
from sahel_crawler.commands.search import search_command
from storage.db import open_database, read_only, session_factory


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sahel-news-monitor")
def main() -> None:
    """Sahel news monitor: crawl Sahel coverage (ar/fr/en), flag keywords, store it in SQL."""


@main.command()
@click.option("--sources", "sources_path", type=click.Path(), help="Sources registry (YAML).")
@db_option
@click.option("--outlet", "outlets", multiple=True, help="Only this outlet id (repeatable).")
@click.option("--refresh", is_flag=True, help="Refetch stored articles to catch updates (no conditional GET).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting.")
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Share the frontier with other workers through this Redis (redis://HOST:6379/0); see docs/operations.md.",
)
@click.option(
    "--redis-prefix", default="sahel", show_default=True, help="Redis key prefix; the workers of one crawl share it."
)  # fmt: skip
def crawl(
    sources_path: str | None,
    db_url: str,
    outlets: tuple[str, ...],
    refresh: bool,
    overrides: tuple[str, ...],
    redis_url: str | None,
    redis_prefix: str,
) -> None:
    """Crawl the outlets of the registry and store their articles.

    With --redis, this process is one worker of a crawl shared with every worker started with
    the same Redis and prefix, on any machine, all writing to one database (docs/operations.md).

    Example: sahel crawl --outlet france24 --db sqlite:///data/sahel.db

    One worker of a shared crawl: sahel crawl --redis redis://10.0.0.5:6379/0 --db postgresql+psycopg://sahel@10.0.0.5/sahel
    """
    from sahel_crawler.commands.running import run_and_report
    from sahel_crawler.crawl import check_crawl_inputs, crawl_settings
    from sahel_crawler.scaleout import RedisUnavailable, check_redis, redis_settings

    extra: dict[str, object] = dict(parse_overrides(overrides))
    if refresh:
        extra["SAHEL_REFRESH"] = True
    if redis_url:
        with user_errors():
            extra = {**redis_settings(redis_url, key_prefix=redis_prefix), **extra}  # -s still wins
    settings = crawl_settings(db_url=db_url, sources_path=sources_path, outlets=outlets, overrides=extra)
    with user_errors():
        outlet_ids = check_crawl_inputs(settings)
    if redis_url:
        try:
            check_redis(redis_url)
        except RedisUnavailable as exc:
            raise Failure(str(exc)) from None
    # Workers of a shared crawl run side by side: the crawl round in Redis coordinates them,
    # so the one-crawl-per-outlet lock is for unshared crawls only.
    run_and_report(settings, outlet_ids, shared=bool(redis_url))


@main.command()
@click.option(
    "--db-path", type=click.Path(dir_okay=False), default="data/demo.db", show_default=True,
    help="SQLite file to create (replaced if present).",
)  # fmt: skip
def demo(db_path: str) -> None:
    """Crawl the bundled offline replay of two outlets into a fresh SQLite file, summarise it
    and print yesterday's keyword digest.

    Needs no network: the replay is served on 127.0.0.1 and 127.0.0.2.
    Example: sahel demo
    """
    from sahel_crawler.commands.running import print_summary
    from sahel_crawler.demo import run_demo
    from sahel_crawler.digest import DigestRequest, run_digest, yesterday

    stats = run_demo(Path(db_path))
    db_url = f"sqlite:///{db_path}"
    print_summary(db_url, stats.get("sahel/run_id"))
    engine = open_database(db_url)
    period = yesterday(project_settings.SAHEL_DIGEST_TZ)
    outcome = run_digest(engine, DigestRequest(period=period, lexicon_path=project_settings.SAHEL_LEXICON_PATH))
    engine.dispose()
    click.echo("\n" + (outcome.written or ""))
    click.echo(f"database: {db_path}  (try: sahel export --db {db_url} --format jsonl)")


@main.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default="jsonl", show_default=True)
@click.option("--since", type=SINCE, help="Published at or after (YYYY-MM-DD or ISO 8601, UTC).")
@click.option("--until", type=UNTIL, help="Published before (a bare date includes that whole day).")
@click.option("--outlet", "outlets", multiple=True, help="Only this outlet id (repeatable).")
@click.option("--lang", "languages", multiple=True, help="Only this language code (repeatable).")
@click.option("--concept", "concepts", multiple=True, help="Only articles flagged with this concept id (repeatable).")
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True), default="-", help="File (default stdout).")
def export(
    db_url: str,
    fmt: str,
    since: datetime | None,
    until: datetime | None,
    outlets: tuple[str, ...],
    languages: tuple[str, ...],
    concepts: tuple[str, ...],
    out: str,
) -> None:
    """Write stored articles as JSONL, CSV or Parquet (the contract: README, "The export contract").

    Example: sahel export --format jsonl --since 2026-11-01 --lang ar --out ar.jsonl
    """
    from sahel_crawler.commands.common import article_filter, writing_to
    from sahel_crawler.exporting import WRITERS, article_record, write_parquet
    from storage.repository import iter_articles

    if fmt == "parquet" and out == "-":
        raise click.UsageError("--format parquet writes a file: give --out FILE")
    with user_errors():
        engine = open_database(db_url)
    flt = article_filter(engine, since=since, until=until, outlets=outlets, languages=languages, concepts=concepts)
    # A read-only transaction: on SQLite it never takes the write lock, so a long export (or one
    # piped into a pager) does not stall a crawl writing meanwhile.
    with session_factory(read_only(engine))() as session, writing_to(out):
        records = (article_record(a) for a in iter_articles(session, flt))
        if fmt == "parquet":
            with user_errors():
                count = write_parquet(records, out)
        else:
            with click.open_file(out, "w", encoding="utf-8") as stream:
                count = WRITERS[fmt](records, stream)
    engine.dispose()
    if out != "-":
        click.echo(f"wrote {count} articles to {out}", err=True)


@main.command()
@db_option
@click.option("--last", "limit", type=click.IntRange(1, 10_000), default=10, show_default=True)
def runs(db_url: str, limit: int) -> None:
    """List the latest crawl runs with their counters.

    Example: sahel runs --last 5
    """
    from sahel_crawler.interrupted import try_close_dead_runs
    from storage.repository import recent_runs

    with user_errors():
        engine = open_database(db_url)
    try_close_dead_runs(engine)
    with session_factory(read_only(engine))() as session:
        click.echo(f"{'run':>5} {'started (UTC)':<20} {'secs':>6} {'status':<11} {'reqs':>5} {'new':>5} "
                   f"{'dups':>5} {'errors':>6}")  # fmt: skip
        for run in recent_runs(session, limit):
            took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
            click.echo(
                f"{run.id:>5} {run.started_at:%Y-%m-%d %H:%M:%S}  {took:>6.1f} {run.status:<11} "
                f"{run.requests:>5} {run.new_articles:>5} "
                f"{run.exact_duplicates + run.near_duplicates:>5} {run.errors:>6}"
            )
    engine.dispose()


@main.command()
@db_option
@click.option("--lexicon", "lexicon_path", type=click.Path(), help="Lexicon file (default: bundled).")
@click.option("--all", "everything", is_flag=True, help="Reflag every article, also those flagged with this version.")
@click.option(
    "-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
    help="A setting; SAHEL_EXTRACT_TIMEOUT is the time limit of one article (seconds).",
)  # fmt: skip
def reflag(db_url: str, lexicon_path: str | None, everything: bool, overrides: tuple[str, ...]) -> None:
    """Recompute the keyword hits of stored articles after a lexicon change.

    An article whose flagging takes longer than SAHEL_EXTRACT_TIMEOUT (the crawl's limit per
    page) keeps its hits, is named in a warning and counted as skipped; the others go on.

    Example: sahel reflag --lexicon my-lexicon.yaml
    """
    from sahel_crawler.crawl import check_setting_types, crawl_settings
    from sahel_crawler.lexicon import load_lexicon
    from sahel_crawler.lexicon.reflag import reflag_articles

    settings = crawl_settings(overrides=parse_overrides(overrides))
    with user_errors():
        check_setting_types(settings)
        lex = load_lexicon(lexicon_path or project_settings.SAHEL_LEXICON_PATH)
        engine = open_database(db_url)
    limit = settings.getfloat("SAHEL_EXTRACT_TIMEOUT")
    counts = reflag_articles(
        session_factory(engine),
        lex,
        only_outdated=not everything,
        progress=lambda c: click.echo(f"reflagged {c.articles} articles...", err=True),
        seconds_per_article=limit,
        on_skip=lambda url, why: click.echo(
            f"warning: skipped {url}: flagging {why} (SAHEL_EXTRACT_TIMEOUT)", err=True
        ),
    )
    engine.dispose()
    click.echo(
        f"reflagged {counts.articles} articles with lexicon {lex.version}: "
        f"{counts.changed} changed, {counts.flagged} flagged, {counts.skipped} skipped over the time limit"
    )


for command in (lexicon, digest, schedule, health, db, search_command):
    main.add_command(command)
main.add_command(backfill)


if __name__ == "__main__":
    main()
