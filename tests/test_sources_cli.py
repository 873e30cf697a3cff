"""`sahel sources list` and `sahel sources fixture add`, and the outlet metadata a crawl stores."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.served import Page, crawl_and_export, served, sources_for
from sahel_crawler.cli import main
from sahel_crawler.sources import load_registry
from tests.conftest import CORPUS
from tests.faults.site import article_html

LE_MONDE = CORPUS / "fundus-fr" / "LeMonde_2023_09_01.html.gz"
LE_MONDE_URL = "https://www.lemonde.fr/politique/article/2023/08/30/sophie-binet_6187099_823448.html"


def test_sources_list_shows_every_outlet_with_its_metadata_and_fixtures() -> None:
    result = CliRunner().invoke(main, ["sources", "list", "--json"])
    assert result.exit_code == 0, result.output
    records = {r["id"]: r for r in map(json.loads, result.output.splitlines())}
    assert set(records) == set(load_registry().outlets)
    assert records["france24"]["state_affiliated"] == "state-funded"
    assert records["france24"]["languages"] == ["fr", "en", "ar"]
    assert records["aljazeera_ar"]["country"] == "QA"
    assert records["bbc_afrique"]["state_affiliated"] == "publicly-funded"
    assert records["france24"]["fixtures"] == "2 pages"
    assert records["meo"]["fixtures"].startswith("lacking: ")
    assert all(r["fixtures"] != "none" for r in records.values()), "an outlet is neither covered nor marked"
    table = CliRunner().invoke(main, ["sources", "list"]).output
    assert all(outlet in table for outlet in records) and "lacking: " in table


def test_fixture_add_writes_a_filled_entry_and_unmarks_the_outlet(tmp_path: Path) -> None:
    if not LE_MONDE.is_file():
        pytest.skip(f"shared corpus page absent: {LE_MONDE}")
    folder = tmp_path / "fixtures"
    folder.mkdir()
    (folder / "lacking.yaml").write_text("# why\nlemonde_afrique: none yet\nmeo: none yet\n", encoding="utf-8")
    page = folder / "lemonde.html.gz"
    shutil.copy(LE_MONDE, page)
    args = ["sources", "fixture", "add", "lemonde_afrique", str(page), LE_MONDE_URL, "--saved", "2023-09-01"]
    result = CliRunner().invoke(main, [*args, "--fixtures", str(folder)])
    assert result.exit_code == 0, result.output
    assert "hand-check" in result.output
    written = (folder / "lemonde_afrique.yaml").read_text(encoding="utf-8")
    assert "page: lemonde.html.gz" in written
    assert "authors:\n  - Bertrand Bissuel" in written
    assert "published_on: 2023-08-30" in written and "paywalled: true" in written
    assert (folder / "lacking.yaml").read_text(encoding="utf-8") == "# why\nmeo: none yet\n"
    listed = CliRunner().invoke(main, ["sources", "list", "--json", "--fixtures", str(folder)]).output
    status = {r["id"]: r["fixtures"] for r in map(json.loads, listed.splitlines())}
    assert status["lemonde_afrique"] == "1 page" and status["meo"] == "lacking: none yet"


def test_fixture_add_refuses_a_page_outside_the_corpus_and_the_fixtures(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(article_html("Titre", ["Un paragraphe assez long pour un article de presse."] * 3, "fr"))
    folder = tmp_path / "fixtures"
    folder.mkdir()
    args = ["sources", "fixture", "add", "france24", str(page), "https://www.france24.com/fr/20261119-x"]
    result = CliRunner().invoke(main, [*args, "--fixtures", str(folder)])
    assert result.exit_code == 2
    assert "neither in the shared corpus" in result.output
    assert not (folder / "france24.yaml").exists()


def test_a_crawl_stores_the_outlet_metadata_for_analysts(tmp_path: Path) -> None:
    html = article_html("Mali : la junte", ["Les autorités de transition du Mali ont parlé mardi à Bamako."] * 3, "fr")
    with served([Page("/fr/20261119-mali", html.encode(), title="Mali")]) as site:
        sources = sources_for(site, "f24")
        sources["outlets"]["f24"].update(
            country="FR", languages=["fr", "ar"], kind="broadcaster", owner="France Médias Monde",
            state_affiliated="state-funded",
        )  # fmt: skip
        assert len(crawl_and_export(sources, tmp_path)) == 1
    with sqlite3.connect(tmp_path / "sahel.db") as db:
        query = "SELECT country, languages, kind, owner, state_affiliated FROM outlets WHERE id = 'f24'"
        row = db.execute(query).fetchone()
    assert row == ("FR", "fr,ar", "broadcaster", "France Médias Monde", "state-funded")
