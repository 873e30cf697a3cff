"""Extraction quality: the product's `extract_article` against plain trafilatura, same pages, same run.

Sets (read in place from ../shared/corpus; a missing set is skipped with a note):
  benchmark  scrapinghub article-extraction benchmark, 181 pages + ground-truth articleBody
  outlets    real France 24 (EN), Le Monde, Libération and CNN Arabic pages with expected text
  dates      8 Arabic news pages with gold publication dates (htmldate's evaluation set)

Usage: python -m bench extraction [--json] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import trafilatura

from bench.common import CORPUS, EXTRACTION_BENCHMARK, extraction_benchmark_html, extraction_ground_truth
from sahel_crawler.extraction import extract_article
from sahel_crawler.extraction.scoring import aggregate, score_page
from sahel_crawler.sources.fixtures import blocks_text

BENCHMARK = CORPUS / EXTRACTION_BENCHMARK
DATES = CORPUS / "htmldate-arabic-dates"


def baseline_text(html: str) -> str | None:
    """Plain trafilatura as the benchmark's own runner calls it."""
    return trafilatura.extract(html, include_comments=False)


def ours_text(html: str, url: str) -> str | None:
    """Body text as the pipeline's extraction stage returns it."""
    article = extract_article(html, url)
    return article.text if article else None


def _expected_text(path: Path) -> str:
    """Text of a readability `expected.html`, one line per block."""
    return blocks_text(path.read_text(encoding="utf-8"))


def outlet_pages() -> list[tuple[str, str, str, str]]:
    """(name, url, decoded page, expected text) of the real outlet pages that carry expected text."""
    pages = []
    f24 = CORPUS / "france24" / "readability-pr224-france24-1"
    if f24.is_dir():
        pages.append(
            (
                "france24-en-2015",
                "http://www.france24.com/en/20150512-bangladesh-third-blogger-hacked-death",
                (f24 / "source.html").read_text(encoding="utf-8"),
                _expected_text(f24 / "expected.html"),
            )
        )
    for name, url in (
        ("lemonde-1", "http://www.lemonde.fr/pixels/article/2015/05/05/projet-de-loi-renseignement.html"),
        ("liberation-1", "http://www.liberation.fr/monde/2015/04/30/un-troisieme-francais-mort-nepal.html"),
    ):
        folder = CORPUS / "french-extraction" / "readability" / name
        if folder.is_dir():
            pages.append(
                (
                    name,
                    url,
                    (folder / "source.html").read_text(encoding="utf-8"),
                    _expected_text(folder / "expected.html"),
                )
            )
    # newspaper4k's copy of the CNN Arabic page carries the full expected text (goose3's only a prefix)
    cnn = CORPUS / "arabic-extraction" / "newspaper4k"
    if cnn.is_dir():
        meta = json.loads((cnn / "arabic_article.json").read_text(encoding="utf-8"))
        pages.append(
            (
                "cnn-arabic-2013",
                meta["url"],
                (cnn / "arabic_article.html").read_text(encoding="utf-8"),
                (cnn / "arabic_article.txt").read_text(encoding="utf-8"),
            )
        )
    return pages


def benchmark_pages(limit: int | None = None) -> list[tuple[str, str, str, str]]:
    """(id, url, decoded page, ground-truth body) of the article-extraction benchmark."""
    truth = extraction_ground_truth()
    return [
        (key, truth[key].get("url", ""), extraction_benchmark_html(key), truth[key].get("articleBody", ""))
        for key in sorted(truth)[:limit]
    ]


def _timed(fn: Callable[[], str | None]) -> tuple[str | None, float]:
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def score_text_set(pages: list[tuple[str, str, str, str]]) -> dict:
    """Score ours and the baseline on (id, url, html, expected) pages; keep per-page F1."""
    ours, base, ours_s, base_s, per_page = [], [], 0.0, 0.0, {}
    with_text = {"ours": 0, "baseline": 0}
    for key, url, html, expected in pages:
        o_text, o_t = _timed(lambda html=html, url=url: ours_text(html, url))
        b_text, b_t = _timed(lambda html=html: baseline_text(html))
        ours_s += o_t
        base_s += b_t
        o, b = score_page(expected, o_text), score_page(expected, b_text)
        ours.append(o)
        base.append(b)
        with_text["ours"] += bool(o_text and o_text.strip())
        with_text["baseline"] += bool(b_text and b_text.strip())
        per_page[key] = {"ours": aggregate([o])["f1"], "baseline": aggregate([b])["f1"]}
    n = max(1, len(pages))
    return {
        "pages": len(pages),
        "ours": {**aggregate(ours), "with_text": with_text["ours"] / n, "ms_per_page": 1000 * ours_s / n},
        "baseline": {
            **aggregate(base),
            "with_text": with_text["baseline"] / n,
            "ms_per_page": 1000 * base_s / n,
        },
        "per_page": per_page,
    }


def _baseline_date(html: str, url: str) -> date | None:
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    raw = getattr(doc, "date", None) if doc is not None else None
    try:
        return date.fromisoformat(raw[:10]) if raw else None
    except ValueError:
        return None


def score_dates() -> dict:
    """Exact publication days on the Arabic pages: ours (publisher's day) vs trafilatura metadata."""
    labels = json.loads((DATES / "labels.json").read_text(encoding="utf-8"))
    rows, ours_ok, base_ok = {}, 0, 0
    for url, label in labels.items():
        html = (DATES / label["file"]).read_text(encoding="utf-8", errors="replace")
        gold = date.fromisoformat(label["date"])
        article = extract_article(html, url)
        ours = article.published_on if article else None
        base = _baseline_date(html, url)
        ours_ok += ours == gold
        base_ok += base == gold
        rows[label["file"]] = {
            "gold": str(gold),
            "ours": str(ours),
            "source": article.published_at_source if article else None,
            "baseline": str(base),
        }
    n = max(1, len(labels))
    return {"pages": len(labels), "ours": ours_ok / n, "baseline": base_ok / n, "per_page": rows}


def _row(name: str, result: dict) -> str:
    o, b = result["ours"], result["baseline"]
    return (
        f"{name:<10} {result['pages']:>5}  "
        f"{o['precision']:.3f} {o['recall']:.3f} {o['f1']:.3f} {o['with_text']:>6.1%} {o['ms_per_page']:>7.1f}   "
        f"{b['precision']:.3f} {b['recall']:.3f} {b['f1']:.3f} {b['with_text']:>6.1%} {b['ms_per_page']:>7.1f}"
    )


def main(argv: list[str]) -> dict:
    """Run every set present in the corpus, print the table, return the results."""
    parser = argparse.ArgumentParser(prog="python -m bench extraction")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--limit", type=int, default=None, help="only the first N benchmark pages")
    args = parser.parse_args(argv)

    results: dict = {"trafilatura": trafilatura.__version__, "notes": []}
    if (BENCHMARK / "ground-truth.json").is_file():
        results["benchmark"] = score_text_set(benchmark_pages(args.limit))
    else:
        results["notes"].append(f"benchmark skipped: {BENCHMARK} not found")
    outlets = outlet_pages() if CORPUS.is_dir() else []
    if outlets:
        results["outlets"] = score_text_set(outlets)
    else:
        results["notes"].append(f"outlet pages skipped: no expected-text pages under {CORPUS}")
    if (DATES / "labels.json").is_file():
        results["dates"] = score_dates()
    else:
        results["notes"].append(f"dates skipped: {DATES} not found")

    if args.json:
        print(json.dumps(results, indent=2, default=str))
        return results
    print(f"extraction quality (trafilatura {trafilatura.__version__}); P/R/F1 = benchmark shingle metric")
    cols = "P     R     F1    text     ms"
    print(f"{'set':<10} {'pages':>5}  ours: {cols:<36}baseline: {cols}")
    for name in ("benchmark", "outlets"):
        if name in results:
            print(_row(name, results[name]))
    if "outlets" in results:
        for key, f1 in results["outlets"]["per_page"].items():
            print(f"  {key:<20} F1 ours {f1['ours']:.3f}  baseline {f1['baseline']:.3f}")
    if "dates" in results:
        d = results["dates"]
        print(f"dates      {d['pages']:>5}  exact day: ours {d['ours']:.0%}   baseline {d['baseline']:.0%}")
        for file, row in d["per_page"].items():
            print(f"  {file:<18} gold {row['gold']}  ours {row['ours']} ({row['source']})  baseline {row['baseline']}")
    for note in results["notes"]:
        print("note:", note)
    return results
