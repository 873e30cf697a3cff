"""Places: the bundled trilingual gazetteer of the Sahel and the place hits of an article.

gazetteer = load_gazetteer()
find_places(gazetteer, "Attaque à Kidal", "...")   # -> [PlaceHit(place_id="kidal", ...)]
"""

from sahel_crawler.places.finder import PlaceHit, find_places, resolve
from sahel_crawler.places.gazetteer import Gazetteer, Place, load_gazetteer, load_outlines, place_lexicon

__all__ = [
    "Gazetteer",
    "Place",
    "PlaceHit",
    "find_places",
    "load_gazetteer",
    "load_outlines",
    "place_lexicon",
    "resolve",
]
