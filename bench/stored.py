"""Extraction quality of what the crawl stores: pages served on 127.0.0.1, crawled by a real
`sahel crawl`, read back with `sahel export`, scored against their expected text; plain
trafilatura scored on the same pages beside it.

Sets (read in place from ../shared/corpus; a missing set is skipped with a note):
  benchmark  the article-extraction benchmark's 181 pages and ground-truth articleBody
  outlets    the registry's real-page fixtures (sahel_crawler/sources/fixtures/), crawled with
             each outlet's rules, plus the other Fundus pages (Le Figaro, Les Echos, Euronews),
             crawled with no outlet rules

Usage: python -m bench stored [--limit N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.common import CORPUS, extraction_benchmark_html, extraction_ground_truth
from bench.extraction import baseline_text
from bench.served import Page, bundled_extraction, crawl_and_export, served, sources_for
from sahel_crawler.extraction.scoring import aggregate, score_page
from sahel_crawler.sources import load_registry
from sahel_crawler.sources.fixtures import PageFixture, load_fixtures

FUNDUS = CORPUS / "fundus-fr"
# Fundus pages of outlets outside the registry, and the parser version of each (SOURCE).
OTHER_FUNDUS = {
    "LeFigaro_2024_11_22.html.gz": ("LeFigaro.json", "V1"),
    "LesEchos_2024_07_18.html.gz": ("LesEchos.json", "V1"),
    "EuronewsFR_2024_04_30.html.gz": ("EuronewsFR.json", "V1"),
    "EuronewsFR_2026_01_06.html.gz": ("EuronewsFR.json", "V1_1"),
}


def _scored(expected: dict[str, str], stored: dict[str, str | None], baseline: dict[str, str | None]) -> dict:
    """Ours (the exported text) and the baseline against the expected text, per page and overall."""
    ours = {key: score_page(text, stored.get(key)) for key, text in expected.items()}
    base = {key: score_page(text, baseline.get(key)) for key, text in expected.items()}
    return {
        "pages": len(expected),
        "stored": sum(1 for key in expected if stored.get(key)),
        "ours": aggregate(ours.values()),
        "baseline": aggregate(base.values()),
        "per_page": {k: {"ours": aggregate([ours[k]])["f1"], "baseline": aggregate([base[k]])["f1"]} for k in ours},
    }


def _crawl(outlet: str, pages: list[Page], extraction: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Exported records by served path."""
    with served(pages) as site, tempfile.TemporaryDirectory() as tmp:
        records = crawl_and_export(sources_for(site, outlet, extraction), Path(tmp))
        prefix = site.base_url
    return {r["url"][len(prefix) :]: r for r in records if r["url"].startswith(prefix)}


def benchmark_set(limit: int | None) -> dict | None:
    """The 181 benchmark pages through one crawl."""
    truth = extraction_ground_truth()
    if not truth:
        return None
    keys = sorted(truth)[:limit]
    html = {key: extraction_benchmark_html(key) for key in keys}
    pages = [Page(f"/bench/{key}.html", html[key].encode("utf-8"), title=key) for key in keys]
    stored = _crawl("bench", pages, {})
    return _scored(
        {key: truth[key].get("articleBody", "") for key in keys},
        {key: (stored.get(f"/bench/{key}.html") or {}).get("text") for key in keys},
        {key: baseline_text(html[key]) for key in keys},
    )


def _fixture_pages() -> list[tuple[str, PageFixture]]:
    found = []
    for outlet in sorted(load_registry().outlets):
        found += [(outlet, f) for f in load_fixtures(outlet) if f.body and f.page_path().is_file()]
    return found


def outlets_set() -> dict | None:
    """The registry's fixture pages (each outlet's rules) and the other Fundus pages (no rules)."""
    expected: dict[str, str] = {}
    stored: dict[str, str | None] = {}
    baseline: dict[str, str | None] = {}
    by_outlet: dict[str, list[tuple[str, Page, str]]] = {}
    for outlet, fixture in _fixture_pages():
        path = "/" + fixture.url.split("/", 3)[3]
        by_outlet.setdefault(outlet, []).append(
            (fixture.page, Page(path, fixture.page_bytes()), fixture.expected_body() or "")
        )
    for name, (truth, version) in OTHER_FUNDUS.items():
        if (FUNDUS / name).is_file():
            fixture = PageFixture(
                "other", f"corpus/fundus-fr/{name}", "", None, "", body=f"corpus/fundus-fr/{truth}#{version}"
            )
            by_outlet.setdefault("other", []).append(
                (fixture.page, Page(f"/fundus/{name[:-3]}", fixture.page_bytes()), fixture.expected_body() or "")
            )
    if not by_outlet:
        return None
    for outlet, entries in by_outlet.items():
        rules = bundled_extraction(outlet) if outlet != "other" else {}
        records = _crawl(outlet, [page for _, page, _ in entries], rules)
        for name, page, text in entries:
            expected[name] = text
            stored[name] = (records.get(page.path) or {}).get("text")
            baseline[name] = baseline_text(page.body.decode("utf-8", errors="replace"))
    return _scored(expected, stored, baseline)


def _row(name: str, result: dict) -> str:
    o, b = result["ours"], result["baseline"]
    return (
        f"| {name} ({result['pages']} pages, {result['stored']} stored) | {o['precision']:.3f} / {o['recall']:.3f} / "
        f"**{o['f1']:.3f}** | {b['precision']:.3f} / {b['recall']:.3f} / {b['f1']:.3f} |"
    )


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench stored", description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N benchmark pages")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    for name, run in (("benchmark", lambda: benchmark_set(args.limit)), ("outlets", outlets_set)):
        result = run()
        if result is None:
            print(f"{name}: corpus not found under {CORPUS}, skipped")
            continue
        results[name] = result
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print("| set | stored text P / R / F1 | plain trafilatura P / R / F1 |\n|---|---|---|")
        for name, result in results.items():
            print(_row(name, result))
    return results
