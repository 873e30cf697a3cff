"""The digest's places: an inline SVG map in HTML (country outlines, circles sized by stories,
labels in the digest's language, a legend), the place table in Markdown, places with
coordinates in JSON; and the demo's digest showing Kidal, Gao and Djibo where they are."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jsonschema
import lxml.etree
import lxml.html
import pytest

from sahel_crawler.digest import SCHEMA_PATH, build_digest, day_period, digest_json, render
from sahel_crawler.digest.map import EAST, HEIGHT, NORTH, SOUTH, WEST, WIDTH, radius
from sahel_crawler.lexicon import flag_article, load_lexicon
from sahel_crawler.places import find_places, load_gazetteer
from storage.db import open_database, session_factory
from storage.repository import ArticleRecord, ensure_outlets, save_article
from tests.conftest import run_sahel
from tests.test_places import REFERENCE, km

DAY = date(2026, 11, 19)
TZ = "Africa/Bamako"
NOON = datetime(2026, 11, 19, 12, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"
ARTICLES = [
    ("fr", "Mali : combats à Kidal", "Des combats ont eu lieu à Kidal, dans le nord du Mali, et près de Gao."),
    ("fr", "Kidal sous le feu", "Nouvelle frappe de drone sur Kidal (Mali), selon des habitants."),
    ("en", "Convoy hit near Kidal", "A convoy was hit near Kidal in northern Mali."),
    ("fr", "Burkina : à Djibo, le blocus", "À Djibo, au Burkina Faso, les habitants attendent les convois."),
]


def unproject(x: float, y: float) -> tuple[float, float]:
    """(lat, lon) of an SVG point of the map."""
    return NORTH - y / HEIGHT * (NORTH - SOUTH), WEST + x / WIDTH * (EAST - WEST)


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('map') / 'sahel.db'}"
    gazetteer, lexicon = load_gazetteer(), load_lexicon()
    engine = open_database(url)
    with session_factory(engine).begin() as session:
        ensure_outlets(session, {"france24": "France 24"})
        for n, (lang, title, text) in enumerate(ARTICLES):
            record = ArticleRecord(
                url=f"https://www.france24.com/{lang}/{n}", outlet="france24", title=title, text=text,
                fetched_at=NOON, published_at=NOON - timedelta(hours=n), language=lang,
            )  # fmt: skip
            record.keyword_hits = [dataclasses.asdict(h) for h in flag_article(lexicon, title, text)]
            record.place_hits = [dataclasses.asdict(h) for h in find_places(gazetteer, title, text)]
            save_article(session, record)
    engine.dispose()
    return url


def _digest(db_url: str, **filters):  # type: ignore[no-untyped-def]
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        built = build_digest(session, day_period(DAY, TZ), now=NOON, **filters)
    engine.dispose()
    return built


def _places(svg: lxml.etree._Element) -> dict[str, tuple[lxml.etree._Element, lxml.etree._Element]]:
    return {g.get("data-place"): (g.find(f"{SVG}circle"), g.find(f"{SVG}text")) for g in svg.iter(f"{SVG}g")}


def test_html_digest_maps_the_days_places_where_they_are(db_url: str) -> None:
    page = lxml.html.fromstring(render(_digest(db_url), "html"))
    (figure,) = page.xpath("//figure[@id='map']")
    svg = lxml.etree.fromstring(lxml.html.tostring(figure.find("svg")))
    places = _places(svg)
    assert set(places) == {"kidal", "gao", "djibo"}  # localities only; countries are shaded outlines
    for place, (circle, _) in places.items():
        lat, lon = unproject(float(circle.get("cx")), float(circle.get("cy")))
        assert km((lat, lon), REFERENCE[place]) < 10
    # circles are sized by stories: Kidal (3) over Gao and Djibo (1)
    assert float(places["kidal"][0].get("r")) == radius(3) > float(places["gao"][0].get("r")) == radius(1)
    assert places["gao"][1].text == "Gao" and "Stories:" in "".join(svg.itertext())
    assert len(svg.findall(f"{SVG}path")) >= 10  # country outlines
    # nothing to fetch: no image, link or script
    assert not re.search(r"href|<image|<script|url\(", lxml.etree.tostring(svg, encoding="unicode"))


def test_places_are_labelled_in_the_digests_language(db_url: str) -> None:
    page = lxml.html.fromstring(render(_digest(db_url, languages=["fr"]), "html"))
    svg = lxml.etree.fromstring(lxml.html.tostring(page.xpath("//figure[@id='map']/svg")[0]))
    assert _places(svg)["kidal"][1].text == "Kidal"
    gazetteer = load_gazetteer()
    built = _digest(db_url)
    arabic = render(dataclasses.replace(built, filters={"concepts": (), "languages": ("ar",)}), "html")
    assert gazetteer.places["djibo"].labels["ar"] in arabic


def test_markdown_lists_the_places_and_json_carries_coordinates(db_url: str) -> None:
    built = _digest(db_url)
    markdown = render(built, "markdown")
    rows = [line for line in markdown.splitlines() if line.startswith("| Kidal |") or line.startswith("| Djibo |")]
    assert rows[0].split(" | ")[1:4] == ["locality", "3", "3"]
    document = json.loads(render(built, "json"))
    jsonschema.validate(document, json.loads(Path(SCHEMA_PATH).read_text(encoding="utf-8")))
    assert document == digest_json(built)
    by_id = {p["id"]: p for p in document["places"]}
    assert {"kidal", "gao", "djibo", "mali", "burkina_faso"} <= set(by_id)
    assert km((by_id["djibo"]["lat"], by_id["djibo"]["lon"]), REFERENCE["djibo"]) < 10
    assert by_id["kidal"]["stories"] == 3


def test_a_day_without_places_has_no_map(db_url: str) -> None:
    built = _digest(db_url)
    empty = dataclasses.replace(built, places=())
    assert 'id="map"' not in render(empty, "html")
    assert "## Places" not in render(empty, "markdown")


@pytest.mark.slow
def test_the_demo_digest_shows_kidal_gao_and_djibo(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = run_sahel("demo", "--db-path", str(db), timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    table = result.stdout.split("## Places", 1)[1].split("\n## ", 1)[0]
    for name in ("Kidal", "Gao", "Djibo"):
        assert f"| {name} | locality |" in table
    # the closing lines say how to get the HTML digest with its map
    (suggested,) = [line.split("   (")[0].split() for line in result.stdout.splitlines() if "--format html" in line]
    assert suggested[:2] == ["sahel", "digest"]
    written = run_sahel(*suggested[1:])
    assert written.returncode == 0, written.stderr
    html = Path(suggested[suggested.index("--out") + 1])
    assert html == tmp_path / "digest.html"
    page = lxml.html.fromstring(html.read_text(encoding="utf-8"))
    svg = lxml.etree.fromstring(lxml.html.tostring(page.xpath("//figure[@id='map']/svg")[0]))
    places = _places(svg)
    for place in ("kidal", "gao", "djibo"):
        lat, lon = unproject(float(places[place][0].get("cx")), float(places[place][0].get("cy")))
        assert km((lat, lon), REFERENCE[place]) < 10
