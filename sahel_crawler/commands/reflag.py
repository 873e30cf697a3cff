"""`sahel reflag`: recompute stored articles' keyword hits after a lexicon change."""

from __future__ import annotations

import click

from sahel_crawler import settings as project_settings
from sahel_crawler.commands.common import db_option, user_errors
from storage.db import open_database, session_factory


@click.command()
@db_option
@click.option("--lexicon", "lexicon_path", type=click.Path(), help="Lexicon file (default: bundled).")
@click.option("--all", "everything", is_flag=True, help="Reflag every article, also those flagged with this version.")
def reflag(db_url: str, lexicon_path: str | None, everything: bool) -> None:
    """Recompute the keyword hits of stored articles after a lexicon change.

    Example: sahel reflag --lexicon my-lexicon.yaml
    """
    from sahel_crawler.lexicon import load_lexicon
    from sahel_crawler.lexicon.reflag import reflag_articles

    with user_errors():
        lex = load_lexicon(lexicon_path or project_settings.SAHEL_LEXICON_PATH)
        engine = open_database(db_url)
    try:
        counts = reflag_articles(
            session_factory(engine),
            lex,
            only_outdated=not everything,
            progress=lambda c: click.echo(f"reflagged {c.articles} articles...", err=True),
        )
    finally:
        engine.dispose()
    click.echo(
        f"reflagged {counts.articles} articles with lexicon {lex.version}: "
        f"{counts.changed} changed, {counts.flagged} flagged"
    )
