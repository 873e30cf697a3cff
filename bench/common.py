"""What the benchmarks share: readers of the texts in ../shared/corpus, read in place.

A reader yields nothing for a file that is absent, so that a benchmark can fall back on generated
texts (or skip a set) without the corpus. `corpus` arguments name another corpus folder of the
same layout.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
# Where each collection lies inside a corpus folder.
FRANCE24_ARABIC = Path("sahel-text", "antcorpus-france24-ar", "france24_ar_all.jsonl")
MASAKHANEWS_FRENCH = tuple(Path("sahel-text", "masakhanews-fra", f"{split}.tsv") for split in ("dev", "test"))
EXTRACTION_BENCHMARK = Path("article-extraction-benchmark")


def france24_arabic(corpus: Path = CORPUS) -> Iterator[dict[str, Any]]:
    """France 24 Arabic articles (2018, from its RSS), one dict each: title, abstract, text, url, ..."""
    path = corpus / FRANCE24_ARABIC
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def masakhanews_french(corpus: Path = CORPUS) -> Iterator[dict[str, str]]:
    """BBC Afrique French articles (MasakhaNEWS, dev then test), one dict each: category, headline, text, url."""
    csv.field_size_limit(10**8)  # an article's text may be longer than csv's default limit on a field
    for relative in MASAKHANEWS_FRENCH:
        path = corpus / relative
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as rows:
                yield from csv.DictReader(rows, delimiter="\t")


def news_texts(corpus: Path = CORPUS) -> Iterator[tuple[str, str]]:
    """(language, text) of the France 24 Arabic articles, then of the BBC Afrique French ones."""
    for row in france24_arabic(corpus):
        yield "ar", row.get("text") or ""
    for row in masakhanews_french(corpus):
        yield "fr", row.get("text") or ""


def extraction_ground_truth(corpus: Path = CORPUS) -> dict[str, dict[str, Any]]:
    """The article-extraction benchmark's ground truth, page id -> {"url", "articleBody", ...};
    empty when absent."""
    path = corpus / EXTRACTION_BENCHMARK / "ground-truth.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def extraction_benchmark_html(key: str, corpus: Path = CORPUS) -> str:
    """The decoded page `key` of the article-extraction benchmark."""
    with gzip.open(corpus / EXTRACTION_BENCHMARK / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as page:
        return page.read()
