"""The digest's map: an inline SVG of the region's country outlines (Natural Earth, bundled) with
the period's localities as circles sized by story count; no tiles, no network, fit for email."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import escape

from sahel_crawler.digest.places import PlaceCount
from sahel_crawler.places import load_outlines

# The drawn window (degrees): Senegal to Chad, the Gulf of Guinea coast to southern Algeria.
WEST, EAST, SOUTH, NORTH = -18.0, 24.0, 4.0, 26.0
WIDTH = 640  # SVG user units; the element scales to the page
_SCALE_X = math.cos(math.radians((SOUTH + NORTH) / 2))  # equirectangular, true at mid-latitude
HEIGHT = round(WIDTH * (NORTH - SOUTH) / ((EAST - WEST) * _SCALE_X))
MIN_RADIUS, RADIUS_PER_ROOT_STORY = 3.0, 3.5
LEGEND_HEIGHT = 36


def project(lat: float, lon: float) -> tuple[float, float]:
    """SVG (x, y) of a point."""
    x = (lon - WEST) / (EAST - WEST) * WIDTH
    y = (NORTH - lat) / (NORTH - SOUTH) * HEIGHT
    return round(x, 1), round(y, 1)


def radius(stories: int) -> float:
    """Circle radius of a place named by `stories` stories: its area grows with the count."""
    return round(MIN_RADIUS + RADIUS_PER_ROOT_STORY * math.sqrt(stories), 1)


def _outline_paths(named_countries: set[str]) -> list[str]:
    paths = []
    for country, rings in load_outlines().items():
        d = " ".join("M" + " L".join("{},{}".format(*project(lat, lon)) for lon, lat in ring) + " Z" for ring in rings)
        fill = "#e3d9c6" if country in named_countries else "#f4efe6"
        paths.append(f'<path d="{d}" fill="{fill}" stroke="#9c8f7a" stroke-width="0.8"><title>{country}</title></path>')
    return paths


def map_svg(places: Sequence[PlaceCount], language: str = "en") -> str | None:
    """An SVG element (ready to inline in HTML) of `places`, labelled in `language` (ar, fr or
    en); None when the period has no locality to draw."""
    localities = [p for p in places if p.kind == "locality" and WEST <= p.lon <= EAST and SOUTH <= p.lat <= NORTH]
    if not localities:
        return None
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + LEGEND_HEIGHT}" width="100%" '
        f'role="img" aria-label="Map of the places named in this period" font-family="sans-serif">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#dbe9f4"/>',
        *_outline_paths({p.id for p in places if p.kind == "country"}),
    ]
    # larger circles first, so a small town is never hidden under a busy one
    for place in sorted(localities, key=lambda p: -p.stories):
        x, y = project(place.lat, place.lon)
        r = radius(place.stories)
        label = escape(place.labels.get(language) or place.labels["en"])
        count = f"{place.stories} stor{'y' if place.stories == 1 else 'ies'}"
        parts.append(
            f'<g class="place" data-place="{place.id}"><title>{label}: {count}</title>'
            f'<circle cx="{x}" cy="{y}" r="{r}" fill="#b3261e" fill-opacity="0.6" stroke="#7a1712"/>'
            f'<text x="{x + r + 2}" y="{y + 4}" font-size="12" fill="#222">{label}</text></g>'
        )
    parts += _legend(max(p.stories for p in localities))
    parts.append("</svg>")
    return "".join(parts)


def _legend(most: int) -> list[str]:
    y = HEIGHT + LEGEND_HEIGHT / 2
    entries = sorted({1, most})
    parts = [f'<rect y="{HEIGHT}" width="{WIDTH}" height="{LEGEND_HEIGHT}" fill="#fff"/>']
    x = 12.0
    parts.append(f'<text x="{x}" y="{y + 4}" font-size="12" fill="#222">Stories:</text>')
    x += 60
    for stories in entries:
        r = radius(stories)
        parts.append(f'<circle cx="{x + r}" cy="{y}" r="{r}" fill="#b3261e" fill-opacity="0.6" stroke="#7a1712"/>')
        parts.append(f'<text x="{x + 2 * r + 4}" y="{y + 4}" font-size="12" fill="#222">{stories}</text>')
        x += 2 * r + 40
    parts.append(
        f'<text x="{WIDTH - 8}" y="{y + 4}" font-size="10" fill="#666" text-anchor="end">'
        "Outlines: Natural Earth (public domain) · places: GeoNames</text>"
    )
    return parts
