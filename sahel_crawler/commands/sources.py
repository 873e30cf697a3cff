"""`sahel sources ...`: the outlets of the registry, their real-page fixtures, and finding the
feeds and sitemaps of a new outlet."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import yaml

from sahel_crawler.commands.common import ConfigError, user_errors

sources_option = click.option(
    "--sources", "sources_path", type=click.Path(), default=None, help="Sources registry (YAML); default: bundled."
)
fixtures_option = click.option(
    "--fixtures", "fixtures_dir", type=click.Path(file_okay=False), default=None,
    help="Fixtures folder; default: the bundled one (sahel_crawler/sources/fixtures).",
)  # fmt: skip


@click.group()
def sources() -> None:
    """The outlets of the sources registry (docs/sources.md)."""


def _folder(fixtures_dir: str | None) -> Path:
    from sahel_crawler.sources.fixtures import FIXTURES_DIR

    return Path(fixtures_dir) if fixtures_dir else FIXTURES_DIR


def outlet_record(outlet: Any, folder: Path) -> dict[str, Any]:
    """One outlet as `sahel sources list --json` prints it."""
    from sahel_crawler.sources.fixtures import fixture_status

    return {
        "id": outlet.id,
        "name": outlet.name,
        "country": outlet.country,
        "languages": list(outlet.languages),
        "kind": outlet.kind,
        "owner": outlet.owner,
        "state_affiliated": outlet.state_affiliated,
        "feeds": len(outlet.feeds),
        "sitemaps": len(outlet.sitemaps),
        "sections": len(outlet.sections),
        "fixtures": fixture_status(outlet.id, folder),
    }


@sources.command("list")
@sources_option
@fixtures_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per outlet, one per line.")
def list_sources(sources_path: str | None, fixtures_dir: str | None, as_json: bool) -> None:
    """List the registry's outlets: country, languages, kind, owner, funding, how many feeds,
    sitemaps and sections, and their real-page fixtures (or why they lack one).

    Example: sahel sources list --json
    """
    from sahel_crawler.sources import load_registry

    with user_errors():
        registry = load_registry(sources_path)
    records = [outlet_record(o, _folder(fixtures_dir)) for o in registry.outlets.values()]
    if as_json:
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    click.echo(f"{'outlet':<16} {'country':<7} {'languages':<10} {'kind':<12} {'funding':<16} {'f/s/s':<7} fixtures")
    for r in records:
        counts = f"{r['feeds']}/{r['sitemaps']}/{r['sections']}"
        click.echo(
            f"{r['id']:<16} {r['country'] or '-':<7} {','.join(r['languages']) or '-':<10} {r['kind'] or '-':<12} "
            f"{r['state_affiliated'] or '-':<16} {counts:<7} {r['fixtures']}"
        )


@sources.group()
def fixture() -> None:
    """Real-page fixtures of the outlets (docs/sources.md "Real-page fixtures")."""


@fixture.command("add")
@click.argument("outlet")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("url")
@click.option("--saved", type=click.DateTime(["%Y-%m-%d"]), default=None, help="When the page was saved (today).")
@sources_option
@fixtures_option
def add_fixture_command(
    outlet: str, file: str, url: str, saved: datetime | None, sources_path: str | None, fixtures_dir: str | None
) -> None:
    """Add a saved page (FILE, saved from URL; .gz allowed) to OUTLET's fixtures, filled with what
    the extractor finds in it with the outlet's rules, and print the entry: hand-check its
    values against the page before committing it. FILE must lie in the shared corpus or in the
    fixtures folder.

    Example: sahel sources fixture add lemonde_afrique ../shared/corpus/fundus-fr/LeMonde_2023_09_01.html.gz https://www.lemonde.fr/politique/article/2023/08/30/x_6187099_823448.html
    """
    from sahel_crawler.extraction import extract_article
    from sahel_crawler.sources import load_registry
    from sahel_crawler.sources.fixtures import add_fixture, fixture_entry, page_reference

    folder = _folder(fixtures_dir)
    with user_errors():
        entry_outlet = load_registry(sources_path).select([outlet])[0]
        page = page_reference(Path(file), folder)
    raw = Path(file).read_bytes()
    if file.endswith(".gz"):
        import gzip

        raw = gzip.decompress(raw)
    extracted = extract_article(raw.decode("utf-8", errors="replace"), url, rules=entry_outlet.extraction)
    if extracted is None:
        raise ConfigError(f"{file}: no article text found in the page")
    day: date = (saved or datetime.now(UTC)).date()
    path = add_fixture(outlet, fixture_entry(page, url, day, extracted), folder)
    click.echo(yaml.safe_dump([fixture_entry(page, url, day, extracted)], allow_unicode=True, sort_keys=False).rstrip())
    click.echo(f"added to {path}: hand-check title, authors, date and add `body:` with the expected text's file")


@sources.command("discover")
@click.argument("url")
def discover(url: str) -> None:
    """List the feeds (the page's <link rel=alternate>, common paths), the sitemaps (robots.txt,
    common paths) and the article URL shape of the site at URL, then print a registry entry to
    paste into a sources file. Only what parses is listed; check each URL before crawling.

    Example: sahel sources discover https://www.france24.com/fr/afrique/
    """
    from sahel_crawler import settings as project_settings
    from sahel_crawler.sources.discover import discover_site, fetch_url, registry_entry

    def fetch(target: str) -> tuple[int, bytes] | None:
        return fetch_url(target, user_agent=project_settings.USER_AGENT)

    with user_errors():
        found = discover_site(url, fetch)
    click.echo(f"feeds: {len(found.feeds)}, sitemaps: {len(found.sitemaps)}, article links: {len(found.article_links)}")
    for label, urls in (("feed", found.feeds), ("sitemap", found.sitemaps)):
        for found_url, how in urls.items():
            click.echo(f"  {label:<8} {found_url}  ({how})")
    for link in found.article_links[:5]:
        click.echo(f"  article  {link}")
    click.echo("")
    click.echo(registry_entry(found), nl=False)
