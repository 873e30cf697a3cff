"""Places on a map: the gazetteer's place hits through a real crawl of the replay, their
storage, the `places` export key, the GeoJSON export, `sahel reflag` and daily_place_counts."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geojson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from sahel_crawler.places import find_places, load_gazetteer
from sahel_crawler.replay import ReplayServer
from storage import repository as repo
from storage.db import open_database, session_factory
from tests.conftest import REPO, crawl_replay, run_sahel
from tests.test_postgres_storage import BACKENDS, throwaway_database

METADATA = REPO / "sahel_crawler" / "datasette_metadata.yml"
# Reference coordinates (lat, lon) typed from the towns' Wikipedia articles, not from GeoNames.
REFERENCE = {"kidal": (18.4411, 1.4078), "gao": (16.2666, -0.0400), "djibo": (14.1022, -1.6306)}


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres."""
    (lat1, lon1), (lat2, lon2) = (math.radians(v) for v in a), (math.radians(v) for v in b)
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@pytest.fixture(scope="module")
def crawled(replay: ReplayServer, replay_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One crawl of the replay and its JSONL and GeoJSON exports."""
    db = tmp_path_factory.mktemp("places") / "sahel.db"
    result = crawl_replay(replay_sources, f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr[-3000:]
    jsonl = run_sahel("export", "--db", f"sqlite:///{db}", "--format", "jsonl")
    features = run_sahel("export", "--db", f"sqlite:///{db}", "--format", "geojson")
    assert jsonl.returncode == 0 and features.returncode == 0, jsonl.stderr + features.stderr
    return {
        "db": db,
        "records": {r["url"]: r for r in map(json.loads, jsonl.stdout.splitlines())},
        "geojson": features.stdout,
    }


@pytest.mark.slow
def test_crawl_stores_place_hits_with_coordinates(replay: ReplayServer, crawled: dict) -> None:
    with sqlite3.connect(crawled["db"]) as conn:
        rows = conn.execute(
            "SELECT a.url, p.place_id, p.latitude, p.longitude, p.form, p.snippet "
            "FROM place_hits p JOIN articles a ON a.id = p.article_id WHERE p.place_id IN ('kidal', 'gao', 'djibo')"
        ).fetchall()
    found = {place for _, place, *_ in rows}
    assert found == {"kidal", "gao", "djibo"}
    for url, place, lat, lon, form, snippet in rows:
        assert km((lat, lon), REFERENCE[place]) < 10, (url, place, lat, lon)
        assert form in snippet


@pytest.mark.slow
def test_export_lists_the_places_last(replay: ReplayServer, crawled: dict) -> None:
    for record in crawled["records"].values():
        assert list(record)[-1] == "places" and isinstance(record["places"], list)
    kidal = [r for url, r in crawled["records"].items() if "pres-de-kidal" in url]
    assert kidal and {"kidal", "mali"} <= set(kidal[0]["places"])
    cocoa = [r for url, r in crawled["records"].items() if "cacao" in url]
    assert cocoa and cocoa[0]["places"] == ["cote_divoire"]  # a country, no Sahel locality


@pytest.mark.slow
def test_geojson_export_is_valid_geojson_with_the_towns_where_they_are(crawled: dict) -> None:
    collection = geojson.loads(crawled["geojson"])
    assert collection.is_valid, collection.errors()
    assert collection["type"] == "FeatureCollection"
    by_place: dict[str, list] = {}
    for feature in collection["features"]:
        assert feature.is_valid and feature["geometry"]["type"] == "Point"
        props = feature["properties"]
        assert props["url"] in crawled["records"] and props["place"] in crawled["records"][props["url"]]["places"]
        assert set(props) >= {"title", "url", "outlet", "language", "published_at", "concepts"}
        by_place.setdefault(props["place"], []).append(feature)
    for place, (lat, lon) in REFERENCE.items():
        assert by_place.get(place), f"no feature for {place}"
        for feature in by_place[place]:
            lon_f, lat_f = feature["geometry"]["coordinates"]
            assert km((lat_f, lon_f), (lat, lon)) < 10


@pytest.mark.slow
def test_reflag_recomputes_place_hits(crawled: dict, tmp_path: Path) -> None:
    db = tmp_path / "reflag.db"
    db.write_bytes(Path(crawled["db"]).read_bytes())
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT article_id, name_id, place_id FROM place_hits ORDER BY 1, 2").fetchall()
        conn.execute("DELETE FROM place_hits")
    result = run_sahel("reflag", "--db", f"sqlite:///{db}", "--all")
    assert result.returncode == 0, result.stderr
    assert " placed, " in result.stdout
    with sqlite3.connect(db) as conn:
        after = conn.execute("SELECT article_id, name_id, place_id FROM place_hits ORDER BY 1, 2").fetchall()
    assert before and after == before


def test_a_shared_name_resolves_by_the_articles_country_or_stays_unresolved() -> None:
    gazetteer = load_gazetteer()

    def gao(text: str) -> str | None:
        (hit,) = [h for h in find_places(gazetteer, "", text) if h.name == "gao"]
        return hit.place_id

    assert gao("Des jihadistes ont attaqué la ville de Gao, dans le nord du Mali.") == "gao"
    assert gao("Au Burkina Faso, la commune de Gao (province du Ziro) a reçu des déplacés.") == "gao_bf"
    # both countries named: the name is stored, not mapped
    (hit,) = [h for h in find_places(gazetteer, "", "Le Mali et le Burkina Faso : à Gao, réunion.") if h.name == "gao"]
    assert hit.place_id is None and hit.lat is None and hit.form == "Gao"


def test_traps_are_not_places() -> None:
    gazetteer = load_gazetteer()
    texts = {
        "أعلنت الحكومة عن دعم مالي كبير للمزارعين": set(),  # financial
        "Gao Yuan, the Chinese vice-minister, met the delegation.": set(),  # surname
        "شهد الساحل الغربي عاصفة قوية": set(),  # the coast
        "Les pêcheurs du fleuve Niger se plaignent de la crue.": set(),  # the river
        "Lagos, Nigeria: the Nigerian army said.": {"nigeria"},
        "فاز اللاعب ألبان كيدال بالمباراة": set(),  # Albin Ekdal
    }
    for sentence, expected in texts.items():
        assert {h.place_id for h in find_places(gazetteer, "", sentence)} == expected, sentence


LOCALITIES = [
    p for p in load_gazetteer().places.values() if p.kind == "locality" and len(load_gazetteer().by_name[p.name]) == 1
]
FILLER = st.text(alphabet="abcdefghij klmnop", max_size=40).map(lambda s: f" {s} ")


@settings(max_examples=60, deadline=None)
@given(place=st.sampled_from(LOCALITIES), before=FILLER, after=FILLER, language=st.sampled_from(["fr", "en"]))
def test_a_locality_named_in_a_sahel_sentence_is_found_with_its_coordinates(place, before, after, language) -> None:
    gazetteer = load_gazetteer()
    country = gazetteer.places[place.country].labels[language]
    sentence = f"{before}Une attaque a eu lieu à {place.labels[language]}, {country}.{after}"
    hits = {h.place_id: h for h in find_places(gazetteer, "Mali, Niger, Burkina", sentence)}
    assert place.id in hits, sentence
    assert (hits[place.id].lat, hits[place.id].lon) == (place.lat, place.lon)


DAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("backend", BACKENDS)
def test_daily_place_counts(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    gazetteer = load_gazetteer()
    texts = [
        ("https://f24.example/fr/1", "Attaque à Kidal", "Des combats à Kidal et à Gao, au Mali.", DAY),
        ("https://f24.example/fr/2", "Kidal encore", "Nouvelle frappe sur Kidal (Mali).", DAY),
        ("https://f24.example/fr/3", "Djibo", "À Djibo, au Burkina Faso, le blocus continue.", DAY + timedelta(days=1)),
    ]
    with throwaway_database(backend, tmp_path, request) as url:
        engine = open_database(url)
        with session_factory(engine).begin() as session:
            repo.ensure_outlets(session, {"france24": "France 24"})
            for link, title, body, when in texts:
                hits = [dataclasses.asdict(h) for h in find_places(gazetteer, title, body)]
                record = repo.ArticleRecord(
                    url=link,
                    outlet="france24",
                    title=title,
                    text=body,
                    fetched_at=when,
                    published_at=when,
                    place_hits=hits,
                )
                repo.save_article(session, record)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT CAST(day AS TEXT), place_id, articles, mentions, latitude, longitude "
                    "FROM daily_place_counts WHERE place_kind = 'locality' ORDER BY 1, 2"
                )
            ).fetchall()
        engine.dispose()
    summary = [(r[0], r[1], r[2], r[3]) for r in rows]
    assert summary == [
        ("2026-11-20", "gao", 1, 1),
        ("2026-11-20", "kidal", 2, 4),
        ("2026-11-21", "djibo", 1, 2),
    ]
    kidal = next(r for r in rows if r[1] == "kidal")
    assert km((kidal[4], kidal[5]), REFERENCE["kidal"]) < 10


@pytest.mark.slow
def test_datasette_maps_the_daily_place_counts(crawled: dict) -> None:
    datasette_app = pytest.importorskip("datasette.app")
    pytest.importorskip("datasette_cluster_map")
    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))

    async def fetch() -> tuple[str, list[dict], str]:
        ds = datasette_app.Datasette([str(crawled["db"])], metadata=metadata)
        page = await ds.client.get("/sahel/daily_place_counts")
        rows = await ds.client.get("/sahel/daily_place_counts.json?_shape=array&place_id=kidal")
        query = await ds.client.get("/sahel/places_last_week")
        assert page.status_code == rows.status_code == query.status_code == 200
        return page.text, rows.json(), query.text

    page, rows, query = asyncio.run(fetch())
    for html in (page, query):
        assert "datasette-cluster-map.js" in html
        assert 'DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN = "latitude"' in html
    assert rows and all(km((r["latitude"], r["longitude"]), REFERENCE["kidal"]) < 10 for r in rows)


def test_keyword_benchmark_reports_the_cost_of_place_hits(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.keywords import main

    result = main(["--docs", "40"])
    rows = {r["lexicon"]: r for r in result["rows"]}
    assert rows["bundled+places"]["hits"] > rows["bundled"]["hits"]
    assert rows["bundled+places"]["ms_per_doc"] > rows["bundled"]["ms_per_doc"]
    assert "place hits add" in capsys.readouterr().out
