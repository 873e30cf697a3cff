"""The real-page fixture harness, parametrised over the bundled registry (in the style of Fundus):
every outlet has saved real pages with hand-checked values, or is marked as lacking them; each
outlet's pages are served locally, crawled with its registry rules, and what `sahel export` then
holds must match: title, body F1 (the extraction benchmark's metric), authors, date, paywall."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.served import Page, bundled_extraction, crawl_and_export, served, sources_for
from sahel_crawler.extraction.scoring import aggregate, score_page
from sahel_crawler.sources import load_registry
from sahel_crawler.sources.fixtures import DEFAULT_CORPUS, PageFixture, lacking_fixtures, load_fixtures

OUTLETS = sorted(load_registry().outlets)
WITH_FIXTURES = [o for o in OUTLETS if load_fixtures(o)]


def _same_text(value: str | None) -> str:
    """Whitespace as a reader sees it (a no-break space is a space)."""
    return " ".join((value or "").split())


@pytest.mark.parametrize("outlet", OUTLETS)
def test_every_outlet_has_a_fixture_or_is_marked_lacking_one(outlet: str) -> None:
    assert load_fixtures(outlet) or outlet in lacking_fixtures(), (
        f"outlet {outlet} has no real-page fixture: add one with `sahel sources fixture add {outlet} FILE URL`"
        " or list it in sahel_crawler/sources/fixtures/lacking.yaml with the reason"
    )
    assert not (load_fixtures(outlet) and outlet in lacking_fixtures()), f"{outlet} has fixtures: unmark it"


def test_lacking_list_names_only_registry_outlets() -> None:
    assert set(lacking_fixtures()) <= set(OUTLETS)


def _crawled(outlet: str, fixtures: list[PageFixture], tmp_path: Path) -> dict[str, dict]:
    pages = [Page(urlsplit(f.url).path, f.page_bytes(), title=f.title) for f in fixtures]
    with served(pages) as site:
        records = crawl_and_export(sources_for(site, outlet, bundled_extraction(outlet)), tmp_path)
        return {urlsplit(r["url"]).path: r for r in records}


@pytest.mark.parametrize("outlet", WITH_FIXTURES)
def test_outlet_fixtures_still_match_what_the_crawl_stores(outlet: str, tmp_path: Path) -> None:
    fixtures = load_fixtures(outlet)
    missing = [f.page for f in fixtures if not f.page_path().is_file()]
    if missing:
        pytest.skip(f"saved pages not on this machine (shared corpus at {DEFAULT_CORPUS}): {', '.join(missing)}")
    stored = _crawled(outlet, fixtures, tmp_path)
    for fixture in fixtures:
        record = stored.get(urlsplit(fixture.url).path)
        assert record is not None, f"{fixture.page}: not stored by the crawl"
        assert _same_text(record["title"]) == _same_text(fixture.title), fixture.page
        assert [a.strip() for a in (record["author"] or "").split(",") if a.strip()] == list(fixture.authors)
        if fixture.published_on is not None:
            assert record["published_at"][:10] == fixture.published_on.isoformat(), fixture.page
        assert record["paywalled"] is fixture.paywalled, fixture.page
        if fixture.standfirst:
            assert _same_text(record["standfirst"]).startswith(_same_text(fixture.standfirst)), fixture.page
            assert _same_text(record["text"]).startswith(_same_text(record["standfirst"])), fixture.page
        expected = fixture.expected_body()
        if expected is not None:
            f1 = aggregate([score_page(expected, record["text"])])["f1"]
            assert f1 >= fixture.min_f1, f"{fixture.page}: body F1 {f1:.3f} under {fixture.min_f1}"
