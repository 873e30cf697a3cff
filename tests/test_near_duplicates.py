"""Exact fingerprints, the near-duplicate index, and its labelled evaluation on real texts.

The evaluation builds its pairs from ../shared/corpus (read in place, never copied): syndicated
copies made by the transformations of tests/data/near_dup_eval/recipe.json, and hard non-pairs
(different stories of the same category and day). Precision and recall must both reach 0.95.
"""

from __future__ import annotations

import csv
import itertools
import json
import random
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sahel_crawler.dedup import NearDuplicateIndex, normalized_words, shingles, text_fingerprint, text_prints
from sahel_crawler.settings import SAHEL_DEDUP_THRESHOLD

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
F24_AR = CORPUS / "sahel-text" / "antcorpus-france24-ar" / "france24_ar_all.jsonl"
MASAKHA_FR = CORPUS / "sahel-text" / "masakhanews-fra"
RECIPE = json.loads((Path(__file__).parent / "data" / "near_dup_eval" / "recipe.json").read_text())

# A short France 24 Arabic wire lead (antcorpus-france24-ar, 2018) for the unit tests.
AR_TEXT = (
    "توفي المخرج السينمائي الشهير إدريسا ويدراوغو أحد أبرز الأسماء في السينما الأفريقية، "
    'الأحد عن عمر ناهز 64 عاما. وحصل فيلمه "تلاي" على جائزة لجنة التحكيم الكبرى في مهرجان '
    "كان في العام 1990.\nأعلن الاتحاد الوطني للسينمائيين رحيل المخرج والمنتج إدريسا ويدراوغو "
    "الأحد في العاصمة واغادوغو، عن عمر ناهز 64 عاما."
)
FR_TEXT = (
    "Le président de la transition a annoncé jeudi à Bamako un nouveau calendrier électoral, "
    "après des semaines de négociations avec la Communauté économique des États de l'Afrique "
    "de l'Ouest. L'opposition dénonce un report déguisé et appelle à manifester samedi."
)


# --- exact fingerprints -------------------------------------------------------------------


def test_fingerprint_ignores_whitespace_case_punctuation_and_diacritics() -> None:
    variant = (
        "  تُوُفِّيَ المخرجُ السينمائي الشهير   إدريسا ويدراوغو أحد أبرز الأسماء في السينما "
        "الافريقية , الأحد عن عمر ناهز ٦٤ عاما .. وحصل فيلمه «تلاي» على جائزة لجنة التحكيم الكبرى "
        "في مهرجان كان في العام ١٩٩٠\n\n\nأعلن الاتحاد الوطني للسينمائيين رحيل المخرج والمنتج "
        "إدريسا ويدراوغو الأحد في العاصمة واغادوغو عن عمر ناهز 64 عاماً!"
    )
    assert text_fingerprint(variant) == text_fingerprint(AR_TEXT)
    french_variant = FR_TEXT.upper().replace("É", "E").replace(", ", " ,  ").replace("'", "’")
    assert text_fingerprint(french_variant) == text_fingerprint(FR_TEXT)


def test_fingerprint_differs_for_different_texts() -> None:
    assert text_fingerprint(AR_TEXT) != text_fingerprint(AR_TEXT.replace("64", "65"))
    assert text_fingerprint(FR_TEXT) != text_fingerprint(FR_TEXT.replace("jeudi", "vendredi"))
    assert text_fingerprint(AR_TEXT) != text_fingerprint(FR_TEXT)
    assert len(text_fingerprint(AR_TEXT)) == 64  # fits articles.text_hash


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(normalized_words(AR_TEXT + " " + FR_TEXT)), min_size=1, max_size=30),
    st.sampled_from([" ", "  ", "\n", " ، ", ", ", " - ", "\t"]),
)
def test_fingerprint_depends_only_on_the_words(words: list[str], separator: str) -> None:
    assert text_fingerprint(separator.join(words)) == text_fingerprint(" ".join(words))


def test_shingles_are_normalised_word_windows() -> None:
    assert shingles("Le MALI, le Niger", k=2) == {b"le mali", b"mali le", b"le niger"}
    assert shingles("Mali", k=3) == {b"mali"}
    assert shingles(" ... ", k=3) == set()
    assert shingles("مَالِيّ وَ النِّيجَر", k=2) == {"مالي و".encode(), "و النيجر".encode()}


# --- the index ----------------------------------------------------------------------------


def test_signature_round_trips_through_bytes() -> None:
    index = NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD)
    signature = index.signature(AR_TEXT)
    data = index.dump_signature(signature)
    assert isinstance(data, bytes)
    loaded = index.load_signature(data)
    assert (loaded.hashvalues == signature.hashvalues).all()
    index.add(7, loaded)
    assert index.query(index.signature(AR_TEXT)) == 7


@pytest.mark.parametrize("text", [AR_TEXT, FR_TEXT, "Kidal", "", "… — !"])
def test_prints_from_the_workers_sign_exactly_as_the_text_does(text: str) -> None:
    # Workers send shingle hashes, not text: stored signatures must not depend on which path made them.
    index = NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD)
    prints = text_prints(text)
    assert (index.signature_from_prints(prints).hashvalues == index.signature(text).hashvalues).all()
    assert prints.text_hash == (text_fingerprint(text) if normalized_words(text) else None)


def test_signatures_of_another_configuration_are_rejected() -> None:
    data = NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD, num_perm=64).dump_signature(
        NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD, num_perm=64).signature(AR_TEXT)
    )
    with pytest.raises(ValueError, match="num_perm"):
        NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD, num_perm=128).load_signature(data)
    with pytest.raises(ValueError):
        NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD).load_signature(b"not a signature")


def test_first_seen_wins() -> None:
    index = NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD)
    index.add("first", index.signature(AR_TEXT))
    index.add("second", index.signature(AR_TEXT + "\nفرانس24/ أ ف ب"))
    assert index.query(index.signature("اقرأ أيضا: مالي\n" + AR_TEXT)) == "first"
    assert [key for key, _ in index.matches(index.signature(AR_TEXT))] == ["first", "second"]
    assert len(index) == 2


def test_different_story_and_empty_text_do_not_match() -> None:
    index = NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD)
    index.add(1, index.signature(AR_TEXT))
    assert index.query(index.signature(FR_TEXT)) is None
    index.add(2, index.signature(""))  # no words: nothing to compare, never indexed
    assert index.query(index.signature("!!")) is None
    assert len(index) == 1


def test_max_items_forgets_the_oldest() -> None:
    index = NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD, max_items=1)
    index.add("old", index.signature(AR_TEXT))
    index.add("new", index.signature(FR_TEXT))
    assert len(index) == 1 and "old" not in index
    assert index.query(index.signature(AR_TEXT)) is None
    assert index.query(index.signature(FR_TEXT)) == "new"


def test_re_adding_a_key_replaces_its_signature() -> None:
    index = NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD)
    index.add(1, index.signature(AR_TEXT))
    index.add(1, index.signature(FR_TEXT))
    assert len(index) == 1
    assert index.query(index.signature(AR_TEXT)) is None
    assert index.query(index.signature(FR_TEXT)) == 1


# --- the labelled evaluation --------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    """One corpus article."""

    id: str
    lang: str
    title: str
    text: str
    group: str  # category (+ day for France 24): where hard non-pairs come from


def _load_docs() -> list[Doc]:
    if not F24_AR.exists() or not MASAKHA_FR.exists():
        pytest.skip(f"the shared corpus is absent ({CORPUS}); the evaluation reads its texts in place")
    docs, seen = [], set()
    with F24_AR.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            # The corpus lists some articles under several categories: keep each text once.
            if row["text"] in seen or row["url"] in seen:
                continue
            seen.update((row["text"], row["url"]))
            day = " ".join(row["time"].split()[1:4])
            docs.append(Doc(row["docno"], "ar", row["title"], row["text"], f"{row['cat']}|{day}"))
    for name in ("dev.tsv", "test.tsv"):
        with (MASAKHA_FR / name).open(encoding="utf-8", newline="") as handle:
            for n, row in enumerate(csv.DictReader(handle, delimiter="\t")):
                if row["text"] in seen:
                    continue
                seen.add(row["text"])
                docs.append(Doc(f"{name}:{n}", "fr", row["headline"], row["text"], row["category"]))
    return docs


_FR_SENTENCE_END = re.compile(r"(?<=[.!?»])\s+(?=[A-ZÀ-Ý«\"])")
_SENTENCE_END = re.compile(r"[.!?؟\n]+")


def _paragraphs(doc: Doc) -> list[str]:
    if doc.lang == "ar":
        return [p for p in doc.text.split("\n") if p.strip()]
    sentences = _FR_SENTENCE_END.split(doc.text)
    return [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]


Transform = Callable[[list[str], random.Random, Doc, list[Doc]], list[str]]


def _rewritten_lead(paras: list[str], rng: random.Random, doc: Doc, _: list[Doc]) -> list[str]:
    words = paras[0].split()
    kept = [w for w in words if rng.random() > 0.33] or words[:1]
    return [rng.choice(RECIPE["chrome"][doc.lang]["datelines"]) + " ".join(kept), *paras[1:]]


def _added_lead(paras: list[str], rng: random.Random, doc: Doc, _: list[Doc]) -> list[str]:
    return [rng.choice(RECIPE["chrome"][doc.lang]["datelines"]) + doc.title.rstrip(".") + ".", *paras]


def _other_headline(paras: list[str], rng: random.Random, doc: Doc, _: list[Doc]) -> list[str]:
    words = doc.title.split()
    short = words[: max(3, len(words) * 2 // 3)]
    return [rng.choice(RECIPE["chrome"][doc.lang]["urgent"]) + " ".join(short), *paras]


def _trimmed_ending(paras: list[str], rng: random.Random, *_: object) -> list[str]:
    cut = max(1, round(len(paras) * rng.uniform(0.10, 0.25)))
    return paras[: max(1, len(paras) - cut)]


def _paragraph_drop(paras: list[str], rng: random.Random, *_: object) -> list[str]:
    if len(paras) < 4:
        return paras
    drop = rng.randrange(1, len(paras))
    return paras[:drop] + paras[drop + 1 :]


def _chrome(paras: list[str], rng: random.Random, doc: Doc, others: list[Doc]) -> list[str]:
    chrome = RECIPE["chrome"][doc.lang]
    out = list(paras)
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.5:
            other = rng.choice([d for d in others if d.lang == doc.lang and d.id != doc.id])
            line = chrome["read_also"] + other.title
        else:
            line = rng.choice(chrome["lines"])
        out.insert(rng.randint(1, len(out)), line)
    return out


_AR_MARKS = ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u064b"]
_FR_ACCENTS = str.maketrans("éèêàâùûçôî", "eeeaauucoi")


def _surface(paras: list[str], rng: random.Random, doc: Doc, _: list[Doc]) -> list[str]:
    def word(w: str) -> str:
        if rng.random() > 0.2 or len(w) < 2:
            return w
        if doc.lang == "ar":
            mark = rng.choice([*_AR_MARKS, "\u0640"])  # a diacritic or tatweel after the first letter
            return w[0] + mark + w[1:]
        return w.translate(_FR_ACCENTS).upper() if rng.random() < 0.5 else w.translate(_FR_ACCENTS)

    out = []
    for para in paras:
        text = "  ".join(word(w) for w in para.split())
        text = text.replace("،", " ,").replace(".", " ...") if doc.lang == "ar" else text.replace("«", '"')
        out.append(text)
    joiner = rng.choice(["\n", "\n\n", " "])
    return [joiner.join(out)]


TRANSFORMS: dict[str, Transform] = {
    "rewritten_lead": _rewritten_lead,
    "added_lead": _added_lead,
    "other_headline": _other_headline,
    "trimmed_ending": _trimmed_ending,
    "paragraph_drop": _paragraph_drop,
    "chrome": _chrome,
    "surface": _surface,  # last when drawn: it may merge the paragraphs
}
assert set(TRANSFORMS) == set(RECIPE["transformations"]), "recipe and code disagree"


def _syndicate(doc: Doc, rng: random.Random, others: list[Doc]) -> tuple[str, list[str]]:
    low, high = RECIPE["transformations_per_side"]
    names = sorted(rng.sample(list(TRANSFORMS), rng.randint(low, high)), key=list(TRANSFORMS).index)
    paras = _paragraphs(doc)
    for name in names:
        paras = TRANSFORMS[name](paras, rng, doc, others)
    return "\n".join(paras), names


def _sentences(text: str) -> frozenset[tuple[str, ...]]:
    found = (tuple(normalized_words(s)) for s in _SENTENCE_END.split(text))
    return frozenset(s for s in found if len(s) >= 5)


def _hard_non_pairs(docs: list[Doc], lang: str, count: int) -> list[tuple[Doc, Doc, float]]:
    """Different stories of one group, hardest (most shared vocabulary) first."""
    groups: dict[str, list[tuple[Doc, frozenset, set[str]]]] = defaultdict(list)
    for doc in docs:
        words = normalized_words(doc.text)
        if doc.lang == lang and len(words) >= RECIPE["min_words_non_pair"]:
            groups[doc.group].append((doc, _sentences(doc.text), set(words)))
    candidates = []
    for members in groups.values():
        for (a, sa, wa), (b, sb, wb) in itertools.combinations(members, 2):
            # Different stories: under 20% of the shorter text's sentences shared.
            if sa and sb and len(sa & sb) < 0.2 * min(len(sa), len(sb)):
                candidates.append((a, b, len(wa & wb) / len(wa | wb)))
    candidates.sort(key=lambda c: (-c[2], c[0].id, c[1].id))
    chosen, used_groups, used_docs = [], set(), set()
    one_per_group = lang == "ar"  # France 24 days give many groups; BBC categories only five
    for a, b, overlap in candidates:
        if a.id in used_docs or b.id in used_docs or (one_per_group and a.group in used_groups):
            continue
        chosen.append((a, b, overlap))
        used_groups.add(a.group)
        used_docs.update((a.id, b.id))
        if len(chosen) == count:
            break
    return chosen


@dataclass(frozen=True)
class LabelledPair:
    first: str
    second: str
    duplicate: bool
    note: str


def build_evaluation() -> list[LabelledPair]:
    """The labelled pairs, generated deterministically from the corpus and the recipe."""
    docs = _load_docs()
    rng = random.Random(RECIPE["seed"])
    labelled = []
    for lang in ("ar", "fr"):
        bases = sorted(
            (d for d in docs if d.lang == lang and len(normalized_words(d.text)) >= RECIPE["min_words_pair_base"]),
            key=lambda d: d.id,
        )
        for doc in rng.sample(bases, RECIPE["pairs"][lang]):
            second, names = _syndicate(doc, rng, docs)
            if rng.random() < RECIPE["both_sides_transformed_share"]:
                first, first_names = _syndicate(doc, rng, docs)
                names = [*first_names, "|", *names]
            else:
                first = doc.text
            labelled.append(LabelledPair(first, second, True, f"{doc.id}: {' '.join(names)}"))
        non_pairs = _hard_non_pairs(docs, lang, RECIPE["non_pairs"][lang])
        assert len(non_pairs) == RECIPE["non_pairs"][lang], f"not enough hard non-pairs in {lang}"
        for a, b, overlap in non_pairs:
            labelled.append(LabelledPair(a.text, b.text, False, f"{a.id} / {b.id}: words {overlap:.2f}"))
    return labelled


@pytest.fixture(scope="module")
def evaluation() -> list[LabelledPair]:
    return build_evaluation()


def test_evaluation_set_is_large_and_hard(evaluation: list[LabelledPair]) -> None:
    pairs = [p for p in evaluation if p.duplicate]
    non_pairs = [p for p in evaluation if not p.duplicate]
    assert len(pairs) >= 100 and len(non_pairs) >= 100
    # Every pair really was changed; every non-pair really shares vocabulary (same topic).
    assert all(p.first != p.second for p in pairs)
    overlaps = sorted(float(p.note.rsplit(" ", 1)[1]) for p in non_pairs)
    assert overlaps[len(overlaps) // 2] >= 0.15, overlaps


def test_near_duplicate_precision_and_recall(evaluation: list[LabelledPair]) -> None:
    index = NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD)
    for n, pair in enumerate(evaluation):
        index.add(n, index.signature(pair.first))
    tp = fp = fn = 0
    misses = []
    for n, pair in enumerate(evaluation):
        predicted = n in {key for key, _ in index.matches(index.signature(pair.second))}
        tp += predicted and pair.duplicate
        fp += predicted and not pair.duplicate
        fn += pair.duplicate and not predicted
        if predicted != pair.duplicate:
            misses.append(pair.note)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn)
    print(
        f"\nnear-duplicates: {tp + fn} pairs, {len(evaluation) - tp - fn} non-pairs; "
        f"precision {precision:.3f}, recall {recall:.3f}; errors: {misses}"
    )
    assert precision >= 0.95 and recall >= 0.95, (precision, recall, misses)
