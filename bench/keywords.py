"""Keyword flagging speed: documents per second with the bundled lexicon and a 1,000-concept one,
and the cost per article of the crawl's text work with the gazetteer loaded (keyword hits and
place hits, as the extraction workers do them).

Texts: real France 24 Arabic and BBC Afrique French articles from ../shared/corpus when present,
else generated wire-style text. `python -m bench keywords [--docs N]`.
"""

from __future__ import annotations

import argparse
import random
import time

from bench.common import france24_arabic, masakhanews_french
from sahel_crawler.lexicon import Lexicon, flag_article, load_lexicon, parse_lexicon
from sahel_crawler.places import Gazetteer, find_places, load_gazetteer


def _texts(limit: int) -> tuple[list[tuple[str, str]], str]:
    docs = [(d["title"], d["text"]) for d in france24_arabic()]
    if not docs:
        words = ["attaque", "Kidal", "armée", "الطوارق", "في", "مالي", "Bamako", "convoi", "نصرة", "village"]
        rnd = random.Random(0)
        return [("", " ".join(rnd.choice(words) for _ in range(500))) for _ in range(limit)], "generated"
    docs += [(r["headline"], r["text"]) for r in masakhanews_french()]
    random.Random(0).shuffle(docs)
    return docs[:limit], "corpus (France 24 Arabic + BBC Afrique)"


def big_lexicon(base: Lexicon, size: int = 1000) -> Lexicon:
    """The bundled concepts plus generated ones up to ``size``, each with forms in three scripts."""
    rnd = random.Random(1)
    latin, arabic = "abcdefghijklmnoprstuvz", "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    raw = {"concepts": []}
    for c in base.concepts.values():
        raw["concepts"].append(
            {
                "id": c.id,
                "category": c.category,
                "labels": c.labels,
                "forms": {
                    lang: [
                        {"form": f.text, "weak": f.weak, "needs": list(f.needs), "exact_case": f.exact_case}
                        for f in forms
                    ]
                    for lang, forms in c.forms.items()
                },
                "exclude": {k: list(v) for k, v in c.exclude.items()},
                "confirm": {k: list(v) for k, v in c.confirm.items()},
            }
        )
    for i in range(size - len(base.concepts)):
        name = "".join(rnd.choice(latin) for _ in range(rnd.randint(5, 9))).capitalize()
        ar = "".join(rnd.choice(arabic) for _ in range(rnd.randint(5, 8)))
        raw["concepts"].append(
            {
                "id": f"gen_{i}",
                "category": "place",
                "labels": {"ar": ar, "fr": name, "en": name},
                "forms": {"ar": [ar, "ال" + ar], "fr": [name, name + "s"], "en": [name, f"{name} {name[:4]}"]},
            }
        )
    return Lexicon(parse_lexicon(raw, "<generated>"), source="<generated>")


def _rate(
    lexicon: Lexicon, docs: list[tuple[str, str]], rounds: int = 3, gazetteer: Gazetteer | None = None
) -> tuple[float, int]:
    def hits_of(title: str, text: str) -> int:
        places = len(find_places(gazetteer, title, text)) if gazetteer is not None else 0
        return len(flag_article(lexicon, title, text)) + places

    best, hits = 0.0, 0
    for _ in range(rounds):
        start = time.perf_counter()
        hits = sum(hits_of(title, text) for title, text in docs)
        best = max(best, len(docs) / (time.perf_counter() - start))
    return best, hits


def main(argv: list[str]) -> dict:
    """Measure, print a table and return the results."""
    parser = argparse.ArgumentParser(prog="python -m bench keywords")
    parser.add_argument("--docs", type=int, default=2000, help="number of articles to flag (default 2000)")
    args = parser.parse_args(argv)
    docs, source = _texts(args.docs)
    chars = sum(len(t) + len(b) for t, b in docs) / max(1, len(docs))
    bundled = load_lexicon()
    start = time.perf_counter()
    big = big_lexicon(bundled)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    gazetteer = load_gazetteer()
    gazetteer_ms = (time.perf_counter() - start) * 1000
    rows = []
    for name, lex, places in (("bundled", bundled, None), ("1000 concepts", big, None),
                              ("bundled+places", bundled, gazetteer)):  # fmt: skip
        rate, hits = _rate(lex, docs, gazetteer=places)
        concepts = len(lex.concepts) + (len(places.lexicon.concepts) if places else 0)
        rows.append(
            {
                "lexicon": name,
                "concepts": concepts,
                "docs_per_s": round(rate, 1),
                "ms_per_doc": round(1000 / rate, 3),
                "hits": hits,
            }
        )
    ratio = rows[0]["docs_per_s"] / rows[1]["docs_per_s"]
    print(f"{len(docs)} articles from {source}, {chars:.0f} characters on average")
    print(f"{'lexicon':15} {'concepts':>8} {'docs/s':>10} {'ms/doc':>8} {'hits':>7}")
    for r in rows:
        print(f"{r['lexicon']:15} {r['concepts']:8} {r['docs_per_s']:10.1f} {r['ms_per_doc']:8.3f} {r['hits']:7}")
    print(f"slowdown with 1000 concepts: x{ratio:.2f} (building it: {build_s * 1000:.0f} ms)")
    places_ms = rows[2]["ms_per_doc"] - rows[0]["ms_per_doc"]
    print(
        f"place hits add {places_ms:.3f} ms per article ({len(gazetteer.places)} places; "
        f"loading the gazetteer: {gazetteer_ms:.0f} ms)"
    )
    return {
        "source": source,
        "docs": len(docs),
        "avg_chars": round(chars),
        "rows": rows,
        "slowdown_ratio": round(ratio, 3),
        "build_1000_ms": round(build_s * 1000, 1),
        "places_ms_per_doc": round(places_ms, 3),
        "gazetteer_load_ms": round(gazetteer_ms, 1),
    }
