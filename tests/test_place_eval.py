"""Precision and recall of place resolution on labelled real articles (tests/data/place_eval),
through the function the extraction workers call, and the accuracy of the mapped coordinates.

Texts are read in place from ../shared/corpus; only ids and labels live in the repository.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from sahel_crawler.places import find_places, load_gazetteer
from tests.test_places import km

EVAL = Path(__file__).parent / "data" / "place_eval"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "sahel-text"
MIN_PRECISION, MIN_RECALL, MAX_KM = 0.95, 0.90, 10.0


def _documents() -> list[tuple[str, str, set[str]]]:
    """(doc id, text, labelled place ids) for every labelled document."""
    labels = yaml.safe_load((EVAL / "labels.yaml").read_text(encoding="utf-8"))
    docs = []
    with open(CORPUS / "antcorpus-france24-ar" / "france24_ar_all.jsonl", encoding="utf-8") as f:
        rows = [d for d in map(json.loads, f) if d["docno"] in labels["f24ar"]]
    arabic = {d["docno"]: d["title"] + "\n\n" + d["text"] for d in rows}
    docs += [(docno, arabic[docno], set(places)) for docno, places in labels["f24ar"].items()]
    bbc = {}
    for split in ("dev", "test"):
        with open(CORPUS / "masakhanews-fra" / f"{split}.tsv", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                bbc[f"{split}:{row['url']}"] = row["headline"] + "\n\n" + row["text"]
    docs += [(key, bbc[key], set(places)) for key, places in labels["masakhane"].items()]
    lines = (CORPUS / "mafand-mt-fr" / "sahel_sentences.txt").read_text(encoding="utf-8").splitlines()
    docs += [(f"mafand:{n}", lines[int(n) - 1], set(places)) for n, places in labels["mafand"].items()]
    for item in yaml.safe_load((EVAL / "authored_en.yaml").read_text(encoding="utf-8")):
        docs.append((item["id"], item["text"], set(item["places"])))
    return docs


@pytest.fixture(scope="module")
def scored() -> dict:
    if not CORPUS.is_dir():
        pytest.skip(f"the evaluation texts are read from {CORPUS}, which is absent")
    gazetteer = load_gazetteer()
    tp = fp = fn = 0
    errors, mapped = [], []
    docs = _documents()
    for doc_id, text, gold in docs:
        hits = [h for h in find_places(gazetteer, "", text) if h.place_id is not None]
        found = {h.place_id for h in hits}
        tp, fp, fn = tp + len(found & gold), fp + len(found - gold), fn + len(gold - found)
        errors += [f"FP {doc_id} {p}" for p in found - gold] + [f"FN {doc_id} {p}" for p in gold - found]
        mapped += [h for h in hits if h.kind == "locality" and h.place_id in gold]
    return {"gazetteer": gazetteer, "docs": docs, "tp": tp, "fp": fp, "fn": fn, "errors": errors, "mapped": mapped}


def test_the_set_decides_enough_places(scored: dict) -> None:
    unknown = {p for _, _, gold in scored["docs"] for p in gold} - set(scored["gazetteer"].places)
    assert not unknown, f"labels name places the gazetteer lacks: {unknown}"
    assert len(scored["docs"]) * len(scored["gazetteer"].places) >= 10_000
    assert scored["tp"] + scored["fn"] >= 300  # positive decisions


def test_precision_and_recall(scored: dict) -> None:
    tp, fp, fn = scored["tp"], scored["fp"], scored["fn"]
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    report = f"precision {precision:.3f} recall {recall:.3f} ({tp} tp, {fp} fp, {fn} fn): {scored['errors']}"
    assert precision >= MIN_PRECISION and recall >= MIN_RECALL, report


def test_every_mapped_locality_is_where_the_atlas_puts_it(scored: dict) -> None:
    reference = yaml.safe_load((EVAL / "reference.yaml").read_text(encoding="utf-8"))
    assert scored["mapped"]
    for hit in scored["mapped"]:
        assert hit.place_id in reference, f"no reference coordinates for {hit.place_id}"
        distance = km((hit.lat, hit.lon), tuple(reference[hit.place_id]))
        assert distance <= MAX_KM, f"{hit.place_id} is {distance:.1f} km from the reference"
