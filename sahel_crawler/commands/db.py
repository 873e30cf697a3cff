"""`sahel db upgrade|current`: the schema's migrations (see docs/schema.md)."""

from __future__ import annotations

import click
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from sahel_crawler.commands.common import CommandFailed, db_option, require_database_file, user_errors
from sahel_crawler.text.index import search_normalise
from storage import schema
from storage.db import error_reason, make_engine, safe_url, session_factory
from storage.search import sync_index


@click.group()
def db() -> None:
    """Migrate the database schema and report its revision."""


@db.command()
@db_option
def upgrade(db_url: str) -> None:
    """Migrate the database to the schema this version needs (creating it when empty),
    then bring the full-text search index up to date.

    Example: sahel db upgrade --db postgresql+psycopg://sahel@db.example.org/sahel
    """
    with user_errors():
        engine = make_engine(db_url)
    try:
        before = schema.current_revision(engine)
        schema.upgrade(engine)
        indexed = sync_index(session_factory(engine), search_normalise)
        after = schema.current_revision(engine)
    except (SQLAlchemyError, CommandError) as exc:  # CommandError: a revision newer than this code
        reason = error_reason(exc)
        raise CommandFailed(f"cannot upgrade database {safe_url(db_url)}: {reason}") from None
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"schema already at {after}")
    else:
        click.echo(f"schema upgraded from {before or 'nothing'} to {after}")
    if indexed:
        click.echo(f"search index: {indexed} articles indexed")


@db.command()
@db_option
def current(db_url: str) -> None:
    """Print the database's schema revision and whether it is the one this version needs.

    Example: sahel db current --db sqlite:///data/sahel.db
    """
    require_database_file(db_url)
    with user_errors():
        engine = make_engine(db_url)
    try:
        revision = schema.current_revision(engine)
        populated = schema.has_tables(engine)
    except SQLAlchemyError as exc:
        reason = error_reason(exc)
        raise CommandFailed(f"cannot read database {safe_url(db_url)}: {reason}") from None
    finally:
        engine.dispose()
    head = schema.head_revision()
    if revision == head:
        click.echo(f"{revision} (head: up to date)")
    elif revision is None and not populated:
        click.echo("no schema (empty database): `sahel db upgrade` creates it")
    elif revision is None:
        click.echo("no revision (made before schema migrations): run `sahel db upgrade`")
    else:
        click.echo(f"{revision} (head is {head}: run `sahel db upgrade`)")
