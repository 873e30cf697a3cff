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

from sahel_crawler import settings as project_settings
from sahel_crawler.commands.common import (
    SINCE,
    UNTIL,
    ConfigError,
    article_filter,
    db_option,
    reading_database,
    user_errors,
)
from sahel_crawler.commands.db import search_normalise
from sahel_crawler.commands.tables import print_table
from sahel_crawler.query import Node, QueryEvaluator, parse_query
from sahel_crawler.query.search import full_text_query, query_search
from storage.db import session_factory, writable
from storage.search import SearchHit, sync_index

FIELDS = ("rank", "published_at", "outlet", "language", "title", "url", "snippet")


def _record(hit: SearchHit) -> dict[str, object]:
    data = asdict(hit)
    data["published_at"] = hit.published_at.isoformat() if hit.published_at else None
    data["rank"] = round(hit.rank, 6)
    return {name: data[name] for name in FIELDS}


def _check_query(query: str) -> tuple[Node, QueryEvaluator]:
    """The parsed query and its evaluator, refused (exit 2, one line pointing at the position)
    when malformed or naming a concept or category the lexicon does not have."""
    from sahel_crawler.lexicon import load_lexicon

    with user_errors():
        node = parse_query(query)
        evaluator = QueryEvaluator(load_lexicon(project_settings.SAHEL_LEXICON_PATH))
        evaluator.check(node, query)
    if full_text_query(node) == "":
        raise ConfigError(f"the query {query!r} has no word to search for")
    return node, evaluator


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
    """Search stored articles with the query language (docs/queries.md), with snippets.

    Words find the articles containing every word, best matches first; "quoted words" match
    as a phrase. Spelling is folded the way the keyword lexicon folds it (diacritics, hamza and
    alef forms, case, accents), and an Arabic word also matches it with a proclitic (أزواد
    finds أَزَوَاد and بأزواد). A query with concept:ID, category:NAME, lang:, outlet:,
    since:, until:, OR, NOT, parentheses, NEAR/N(a, b) or SENTENCE(a, b) lists the matching
    articles newest first. A malformed query is refused with its position (exit 2).

    Example: sahel search "أزواد" --lang ar --since 2026-11-01 --format jsonl

    Example: sahel search 'NEAR/10(concept:fla, concept:jnim) AND NOT lang:ar'
    """
    node, evaluator = _check_query(query)
    with reading_database(db_url) as engine:
        flt = article_filter(engine, since=since, until=until, outlets=outlets, languages=languages, concepts=concepts)
        try:
            sync_index(session_factory(writable(engine)), search_normalise)
        except SQLAlchemyError:  # a read-only account: search what is indexed
            click.echo("sahel: warning: could not update the search index; recent articles may be missing", err=True)
        with session_factory(engine)() as session:  # takes no write lock
            hits = query_search(session, node, evaluator, flt, limit)
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
