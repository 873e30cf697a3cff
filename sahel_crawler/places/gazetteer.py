"""The bundled gazetteer: places with coordinates, and the names that point at them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sahel_crawler.configfile import read_yaml
from sahel_crawler.lexicon import DEFAULT_PATH, Lexicon, parse_lexicon

HERE = Path(__file__).parent
GAZETTEER_PATH = HERE / "gazetteer.json"
OUTLINES_PATH = HERE / "outlines.json"
FORMS_PATH = HERE / "forms.yaml"


@dataclass(frozen=True)
class Place:
    """One gazetteer entry: a locality or a country (docs/places.md lists the fields' sources)."""

    id: str
    name: str  # the name concept that points at this place (several places may share one)
    kind: str  # "locality" | "country"
    labels: dict[str, str]  # ar, fr, en
    lat: float
    lon: float
    country: str  # the country's place id (its own id for a country)
    cc: str  # ISO 3166 alpha-2
    admin1: str | None
    admin2: str | None
    population: int | None
    geonames_id: int | None


class Gazetteer:
    """The places, and the matcher over their names with the keyword lexicon as context."""

    def __init__(self, places: list[Place], lexicon: Lexicon) -> None:
        self.places = {p.id: p for p in places}
        self.lexicon = lexicon
        self.by_name: dict[str, list[Place]] = {}
        for place in places:
            self.by_name.setdefault(place.name, []).append(place)
        self.version = lexicon.version

    def __repr__(self) -> str:
        return f"Gazetteer({len(self.places)} places, version {self.version})"


def _concept_list(path: Path, what: str) -> list[Any]:
    raw = read_yaml(path, what)
    return list(raw.get("concepts") or []) if isinstance(raw, dict) else []


def place_lexicon() -> Lexicon:
    """The bundled lexicon's concepts and forms.yaml's place and country names, in one matcher."""
    raw = {"concepts": _concept_list(DEFAULT_PATH, "lexicon") + _concept_list(FORMS_PATH, "place names")}
    source = f"{DEFAULT_PATH} + {FORMS_PATH}"
    return Lexicon(parse_lexicon(raw, source), source=source)


@cache
def load_gazetteer() -> Gazetteer:
    """The bundled gazetteer (gazetteer.json) with its name matcher, built once per process."""
    document = json.loads(GAZETTEER_PATH.read_text(encoding="utf-8"))
    places = [Place(**entry) for entry in document["places"]]
    return Gazetteer(places, place_lexicon())


@cache
def load_outlines() -> dict[str, list[list[list[float]]]]:
    """Country outlines (place id -> rings of [lon, lat]) for the digest map."""
    return json.loads(OUTLINES_PATH.read_text(encoding="utf-8"))["countries"]
