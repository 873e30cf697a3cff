"""Precision and recall of the bundled lexicon on hand-labelled real articles (tests/data/keyword_eval).

Texts are read in place from ../shared/corpus; only ids and labels live in the repository.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from sahel_crawler.lexicon import load_lexicon

EVAL = Path(__file__).parent / "data" / "keyword_eval"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "sahel-text"
MIN_SUPPORT = 5  # a concept's own recall is only asserted with this many labelled positives


def _documents() -> list[tuple[str, str, str, set[str]]]:
    """(language, doc id, text, labelled concepts) for every labelled document."""
    labels = yaml.safe_load((EVAL / "labels.yaml").read_text(encoding="utf-8"))
    docs = []
    arabic = {}
    with open(CORPUS / "antcorpus-france24-ar" / "france24_ar_all.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["docno"] in labels["f24ar"]:
                arabic[d["docno"]] = d["title"] + "\n\n" + d["text"]
    for docno, concepts in labels["f24ar"].items():
        docs.append(("ar", docno, arabic[docno], set(concepts)))
    bbc = {}
    for split in ("dev", "test"):
        with open(CORPUS / "masakhanews-fra" / f"{split}.tsv", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                bbc[f"{split}:{row['url']}"] = row["headline"] + "\n\n" + row["text"]
    for key, concepts in labels["masakhane"].items():
        docs.append(("fr", key, bbc[key], set(concepts)))
    lines = (CORPUS / "mafand-mt-fr" / "sahel_sentences.txt").read_text(encoding="utf-8").splitlines()
    for number, concepts in labels["mafand"].items():
        docs.append(("fr", f"mafand:{number}", lines[int(number) - 1], set(concepts)))
    for authored in sorted(EVAL.glob("authored_*.yaml")):
        lang = authored.stem.removeprefix("authored_")
        for item in yaml.safe_load(authored.read_text(encoding="utf-8")):
            docs.append((lang, item["id"], item["text"], set(item["concepts"])))
    return docs


@pytest.fixture(scope="module")
def scored():
    if not CORPUS.is_dir():
        pytest.skip(f"the evaluation texts are read from {CORPUS}, which is absent")
    lexicon = load_lexicon()
    docs = _documents()
    tp, fp, fn = Counter(), Counter(), Counter()
    errors = []
    for lang, doc_id, text, gold in docs:
        found = {hit.concept for hit in lexicon.match(text)}
        for concept in found & gold:
            tp[(lang, concept)] += 1
        for concept in found - gold:
            fp[(lang, concept)] += 1
            errors.append(f"FP {lang} {doc_id} {concept}")
        for concept in gold - found:
            fn[(lang, concept)] += 1
            errors.append(f"FN {lang} {doc_id} {concept}")
    return lexicon, docs, tp, fp, fn, errors


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def test_labels_cover_enough_decisions(scored):
    lexicon, docs, *_ = scored
    unknown = {c for *_, gold in docs for c in gold} - set(lexicon.concepts)
    assert not unknown, f"labels name concepts the lexicon lacks: {unknown}"
    decisions = len(docs) * len(lexicon.concepts)
    assert decisions >= 300
    assert {lang for lang, *_ in docs} == {"ar", "fr", "en"}


def test_precision_and_recall_meet_targets(scored):
    lexicon, _docs, tp, fp, fn, errors = scored
    lines = [f"{'':16} {'support':>7} {'P':>6} {'R':>6}"]
    for lang in ("ar", "fr", "en"):
        t = sum(v for (lg, _), v in tp.items() if lg == lang)
        p, r = _pr(
            t, sum(v for (lg, _), v in fp.items() if lg == lang), sum(v for (lg, _), v in fn.items() if lg == lang)
        )
        support = t + sum(v for (lg, _), v in fn.items() if lg == lang)
        lines.append(f"{lang:16} {support:7} {p:6.3f} {r:6.3f}")
    weak = []
    for concept in sorted(lexicon.concepts):
        t = sum(v for (_, c), v in tp.items() if c == concept)
        f_p = sum(v for (_, c), v in fp.items() if c == concept)
        f_n = sum(v for (_, c), v in fn.items() if c == concept)
        p, r = _pr(t, f_p, f_n)
        lines.append(f"{concept:16} {t + f_n:7} {p:6.3f} {r:6.3f}")
        if t + f_n >= MIN_SUPPORT and (p < 0.90 or r < 0.90):
            weak.append(concept)
    total_p, total_r = _pr(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    lines.append(f"{'all':16} {sum(tp.values()) + sum(fn.values()):7} {total_p:6.3f} {total_r:6.3f}")
    report = "\n".join(lines + errors)
    print("\n" + report)
    assert total_p >= 0.97, report
    assert total_r >= 0.95, report
    assert not weak, f"concepts under 0.90: {weak}\n{report}"
