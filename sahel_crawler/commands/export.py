"""`sahel export`: stored articles as JSONL, CSV or Parquet (the contract: README), or their
places as GeoJSON (docs/places.md)."""

from __future__ import annotations

from datetime import datetime

import click

from sahel_crawler.commands.common import (
    SINCE,
    UNTIL,
    article_filter,
    db_option,
    reading_database,
    user_errors,
    writing_to,
)
from storage.db import session_factory


@click.command()
@db_option
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet", "geojson"]), default="jsonl", show_default=True
)
@click.option("--since", type=SINCE, help="Published at or after (YYYY-MM-DD or ISO 8601, UTC).")
@click.option("--until", type=UNTIL, help="Published before (a bare date includes that whole day).")
@click.option("--outlet", "outlets", multiple=True, help="Only this outlet id (repeatable).")
@click.option("--lang", "languages", multiple=True, help="Only this language code (repeatable).")
@click.option("--concept", "concepts", multiple=True, help="Only articles flagged with this concept id (repeatable).")
@click.option(
    "--out", type=click.Path(dir_okay=False, allow_dash=True), default="-",
    help="File to write, replaced if present; its folder must exist (default: stdout).",
)  # fmt: skip
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
    """Write stored articles as JSONL, CSV or Parquet (the contract: README, "The export contract"),
    or their places as GeoJSON (one Point feature per article and place).

    Example: sahel export --format jsonl --since 2026-11-01 --lang ar --out ar.jsonl
    """
    from sahel_crawler.exporting import WRITERS, article_record, write_geojson, write_parquet
    from storage.repository import iter_articles

    if fmt == "parquet" and out == "-":
        raise click.UsageError("--format parquet writes a file: give --out FILE")
    with reading_database(db_url) as engine:
        flt = article_filter(engine, since=since, until=until, outlets=outlets, languages=languages, concepts=concepts)
        # A read-only transaction: on SQLite it never takes the write lock, so a long export (or
        # one piped into a pager) does not stall a crawl writing meanwhile.
        with session_factory(engine)() as session, writing_to(out):
            records = (article_record(a) for a in iter_articles(session, flt))
            if fmt == "parquet":
                with user_errors():
                    count = write_parquet(records, out)
            elif fmt == "geojson":
                with click.open_file(out, "w", encoding="utf-8") as stream:
                    count = write_geojson(iter_articles(session, flt), stream)
            else:
                with click.open_file(out, "w", encoding="utf-8") as stream:
                    count = WRITERS[fmt](records, stream)
    if out != "-":
        click.echo(f"wrote {count} {'place features' if fmt == 'geojson' else 'articles'} to {out}", err=True)
