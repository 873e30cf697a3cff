"""`sahel search`: full-text search of stored articles (see docs/schema.md, "Full-text search")."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

import click
from sqlalchemy.exc import SQLAlchemyError

from sahel_crawler.commands.common import SINCE, UNTIL, ConfigError, article_filter, db_option, reading_database
from sahel_crawler.commands.db import search_normalise
from sahel_crawler.commands.tables import print_table
from sahel_crawler.text.arabic import word_variants
from sahel_crawler.text.fold import fold_key
from storage.db import session_factory, writable
from storage.search import SearchHit, parse_query, search, sync_index, unsupported_operator

FIELDS = ("rank", "published_at", "outlet", "language", "title", "url", "snippet")


def _record(hit: SearchHit) -> dict[str, object]:
    data = asdict(hit)
    data["published_at"] = hit.published_at.isoformat() if hit.published_at else None
    data["rank"] = round(hit.rank, 6)
    return {name: data[name] for name in FIELDS}


def _check_query(query: str) -> str:
    """The folded query, refused (exit 2) when it has operators the search does not support or
    no word at all: either would otherwise end quietly with "no matching articles"."""
    operator = unsupported_operator(query)
    if operator is not None:
        raise ConfigError(
            f"search finds articles containing every word: OR, AND, NOT, a leading -, *, NEAR(...) and column "
            f"filters (title:) are not supported (the query has {operator!r})"
        )
    folded = fold_key(query)
    if not parse_query(folded):
        raise ConfigError(f"the query {query!r} has no word to search for")
    return folded


def _write_table(hits: Iterable[SearchHit]) -> None:
    columns = (("#", "right"), ("published", "left"), ("outlet", "left"), ("lang", "left"), ("article", "left"))
    rows = [
        (
            number,
            f"{hit.published_at:%Y-%m-%d}" if hit.published_at else "????-??-??",
            hit.outlet,
            hit.language or "--",
            f"{hit.title or '(no title)'}\n{hit.url}\n{hit.snippet}",
        )
        for number, hit in enumerate(hits, 1)
    ]
    print_table(columns, rows)


@click.command("search")
@click.argument("query")
@db_option
@click.option("--concept", "concepts", multiple=True, help="Only articles flagged with this concept id (repeatable).")
@click.option("--outlet", "outlets", multiple=True, help="Only this outlet id (repeatable).")
@click.option("--lang", "languages", multiple=True, help="Only this language code (repeatable).")
@click.option("--since", type=SINCE, help="Published at or after (YYYY-MM-DD or ISO 8601, UTC).")
@click.option("--until", type=UNTIL, help="Published before (a bare date includes that whole day).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "jsonl"]), default="table", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="At most this many.")
def search_command(
    query: str,
    db_url: str,
    concepts: tuple[str, ...],
    outlets: tuple[str, ...],
    languages: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    limit: int,
) -> None:
    """Full-text search of stored articles, best matches first, with snippets.

    Finds the articles containing every word; "quoted words" match as a phrase. There are no
    operators: a query with OR, AND or NOT (in capitals), a word with a leading -, a *,
    NEAR(...) or a column filter (title:word) is refused (search for each alternative in turn).
    Spelling is folded the way the keyword lexicon folds it (diacritics, hamza and alef forms,
    case, accents), and an Arabic word also matches it with a proclitic (أزواد finds أَزَوَاد and بأزواد).

    Example: sahel search "أزواد" --lang ar --since 2026-11-01 --format jsonl
    """
    folded = _check_query(query)
    with reading_database(db_url) as engine:
        flt = article_filter(engine, since=since, until=until, outlets=outlets, languages=languages, concepts=concepts)
        try:
            sync_index(session_factory(writable(engine)), search_normalise)
        except SQLAlchemyError:  # a read-only account: search what is indexed
            click.echo("sahel: warning: could not update the search index; recent articles may be missing", err=True)
        with session_factory(engine)() as session:  # takes no write lock
            hits = search(session, folded, flt, limit=limit, word_variants=word_variants)
    if fmt == "jsonl":
        for hit in hits:
            click.echo(json.dumps(_record(hit), ensure_ascii=False))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(_record(hit) for hit in hits)
        click.echo(buffer.getvalue(), nl=False)
    else:
        if hits:
            _write_table(hits)
        else:
            click.echo("no matching articles", err=True)
