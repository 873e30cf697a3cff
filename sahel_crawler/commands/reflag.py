"""`sahel reflag`: recompute stored articles' keyword hits and place hits after a lexicon change."""

from __future__ import annotations

import click

from sahel_crawler import settings as project_settings
from sahel_crawler.commands.common import db_option, parse_overrides, user_errors
from storage.db import open_database, session_factory


@click.command()
@db_option
@click.option("--lexicon", "lexicon_path", type=click.Path(), help="Lexicon file (default: bundled).")
@click.option("--all", "everything", is_flag=True, help="Reflag every article, also those flagged with this version.")
@click.option(
    "-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
    help="A setting; SAHEL_EXTRACT_TIMEOUT is the time limit of one article (seconds).",
)  # fmt: skip
def reflag(db_url: str, lexicon_path: str | None, everything: bool, overrides: tuple[str, ...]) -> None:
    """Recompute the keyword hits and place hits of stored articles after a lexicon change.

    An article whose flagging takes longer than SAHEL_EXTRACT_TIMEOUT (the crawl's limit per
    page) keeps its hits, is named in a warning and counted as skipped; the others go on.

    Example: sahel reflag --lexicon my-lexicon.yaml
    """
    from sahel_crawler.crawl import crawl_settings
    from sahel_crawler.lexicon import load_lexicon
    from sahel_crawler.lexicon.reflag import reflag_articles
    from sahel_crawler.places import load_gazetteer
    from sahel_crawler.setting_types import check_setting_types

    settings = crawl_settings(overrides=parse_overrides(overrides))
    with user_errors():
        check_setting_types(settings)
        lex = load_lexicon(lexicon_path or project_settings.SAHEL_LEXICON_PATH)
        engine = open_database(db_url)
    try:
        counts = reflag_articles(
            session_factory(engine),
            lex,
            only_outdated=not everything,
            progress=lambda c: click.echo(f"reflagged {c.articles} articles...", err=True),
            seconds_per_article=settings.getfloat("SAHEL_EXTRACT_TIMEOUT"),
            on_skip=lambda url, why: click.echo(
                f"warning: skipped {url}: flagging {why} (SAHEL_EXTRACT_TIMEOUT)", err=True
            ),
            gazetteer=load_gazetteer() if settings.getbool("SAHEL_PLACES_ENABLED") else None,
        )
    finally:
        engine.dispose()
    click.echo(
        f"reflagged {counts.articles} articles with lexicon {lex.version}: "
        f"{counts.changed} changed, {counts.flagged} flagged, {counts.placed} placed, "
        f"{counts.skipped} skipped over the time limit"
    )
