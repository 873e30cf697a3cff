"""Reading and validating a lexicon file (YAML) into a `Lexicon`."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sahel_crawler.configfile import ConfigFileError, read_yaml, shown
from sahel_crawler.lexicon.matcher import Matcher
from sahel_crawler.lexicon.model import LANGUAGES, Concept, ConceptHit, Form, LexiconError, implied_by
from sahel_crawler.text.fold import fold_key

DEFAULT_PATH = Path(__file__).with_name("lexicon.yaml")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_CONCEPT_KEYS = {"id", "category", "labels", "forms", "exclude", "confirm", "implies"}
_FORM_KEYS = {"form", "weak", "needs", "exact_case"}


class Lexicon:
    """Validated concepts and their compiled matcher (built once, reused for every text)."""

    def __init__(self, concepts: dict[str, Concept], *, source: str = "<memory>") -> None:
        self.concepts = concepts
        self.source = source
        self.version = _content_hash(concepts)
        self._matcher = Matcher(concepts)

    def match(self, text: str, *, language: str | None = None) -> list[ConceptHit]:
        """Concepts flagged in ``text``, in order of first appearance (see `Matcher.match`)."""
        return self._matcher.match(text, language)

    def concept_ids(self, names: Iterable[str]) -> tuple[str, ...]:
        """The concept ids `names` stand for, in any case (ids are lower case: JNIM is jnim).

        Raises ValueError naming the first unknown name and the known ids.
        """
        ids = tuple(dict.fromkeys(name.strip().lower() for name in names))
        unknown = [cid for cid in ids if cid not in self.concepts]
        if unknown:
            raise ValueError(
                f"--concept {unknown[0]}: unknown concept (not in lexicon {self.source}; "
                f"known: {', '.join(sorted(self.concepts))})"
            )
        return ids

    def __repr__(self) -> str:
        return f"Lexicon({shown(self.source)}, {len(self.concepts)} concepts, version {self.version})"


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Load and validate a lexicon file; None loads the bundled default.

    Raises `LexiconError` naming the file, the concept and the key of the first problem.
    """
    file = Path(path) if path is not None else DEFAULT_PATH
    try:
        raw = read_yaml(file, "lexicon")
    except ConfigFileError as exc:
        raise LexiconError(str(exc)) from None
    return Lexicon(parse_lexicon(raw, str(file)), source=str(file))


def parse_lexicon(raw: Any, file: str = "<lexicon>") -> dict[str, Concept]:
    """Validate the parsed YAML of a lexicon and build its concepts."""
    if not isinstance(raw, dict) or not isinstance(raw.get("concepts"), list):
        raise LexiconError(f"{file}: key 'concepts': expected a list of concepts at the top level")
    unknown = set(raw) - {"concepts", "format", "anchors"}
    if unknown:
        raise LexiconError(f"{file}: key {shown(sorted(unknown)[0])}: unknown top-level key")
    concepts: dict[str, Concept] = {}
    for index, item in enumerate(raw["concepts"]):
        concept = _parse_concept(item, index, file)
        if concept.id in concepts:
            raise LexiconError(f"{file}: concept {shown(concept.id)}: key 'id': defined twice")
        concepts[concept.id] = concept
    for concept in concepts.values():
        for form in concept.all_forms():
            for need in form.needs:
                if need not in concepts:
                    raise LexiconError(
                        f"{file}: concept {shown(concept.id)}: key 'needs': unknown concept {shown(need)}"
                        f" (form {shown(form.text)})"
                    )
    _check_implies(concepts, file)
    return concepts


def _check_implies(concepts: dict[str, Concept], file: str) -> None:
    """Every implied concept exists and no concept implies itself, directly or through others."""
    for concept in concepts.values():
        for implied in concept.implies:
            if implied not in concepts:
                raise LexiconError(
                    f"{file}: concept {shown(concept.id)}: key 'implies': unknown concept {shown(implied)}"
                )
    for cid in concepts:
        if cid in implied_by(concepts, cid):
            raise LexiconError(f"{file}: concept {shown(cid)}: key 'implies': cycle (it implies itself)")


def _parse_concept(item: Any, index: int, file: str) -> Concept:
    where = f"{file}: concept #{index + 1}"
    if not isinstance(item, dict):
        raise LexiconError(f"{where}: expected a mapping with id, category, labels, forms")
    cid = item.get("id")
    if not isinstance(cid, str) or not _ID.match(cid):
        raise LexiconError(f"{where}: key 'id': expected lower-case letters, digits and _ (got {shown(cid)})")
    where = f"{file}: concept {shown(cid)}"

    def fail(key: str, problem: str) -> LexiconError:
        return LexiconError(f"{where}: key {shown(key)}: {problem}")

    unknown = set(item) - _CONCEPT_KEYS
    if unknown:
        raise fail(sorted(unknown)[0], f"unknown key (allowed: {', '.join(sorted(_CONCEPT_KEYS))})")
    category = item.get("category")
    if not isinstance(category, str) or not _ID.match(category):
        raise fail("category", f"expected a lower-case word such as armed_group (got {shown(category)})")
    labels = item.get("labels")
    if not isinstance(labels, dict) or set(labels) != set(LANGUAGES):
        raise fail("labels", "expected a label in each of ar, fr, en")
    for lang, label in labels.items():
        if not isinstance(label, str) or not label.strip():
            raise fail(f"labels.{lang}", "expected a non-empty string")
    forms_raw = item.get("forms")
    if not isinstance(forms_raw, dict) or not forms_raw:
        raise fail("forms", "expected forms per language (ar, fr, en)")
    forms: dict[str, tuple[Form, ...]] = {}
    for lang, entries in forms_raw.items():
        if lang not in LANGUAGES:
            raise fail(f"forms.{lang}", "unknown language (use ar, fr, en)")
        if not isinstance(entries, list) or not entries:
            raise fail(f"forms.{lang}", "expected a non-empty list of forms")
        forms[lang] = tuple(_parse_form(e, lang, fail) for e in entries)
    return Concept(
        id=cid,
        category=category,
        labels={lang: labels[lang].strip() for lang in LANGUAGES},
        forms=forms,
        exclude=_parse_phrases(item.get("exclude"), "exclude", fail),
        confirm=_parse_phrases(item.get("confirm"), "confirm", fail),
        implies=_parse_implies(item.get("implies", []), cid, fail),
    )


def _parse_implies(value: Any, cid: str, fail: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and _ID.match(v) for v in value):
        raise fail("implies", f"expected a list of concept ids (got {shown(value)})")
    if cid in value:
        raise fail("implies", "a concept cannot imply itself")
    return tuple(dict.fromkeys(value))


def _parse_form(entry: Any, lang: str, fail: Any) -> Form:
    key = f"forms.{lang}"
    if isinstance(entry, str):
        entry = {"form": entry}
    if not isinstance(entry, dict):
        raise fail(key, f"expected a string or a mapping with 'form' (got {shown(entry)})")
    unknown = set(entry) - _FORM_KEYS
    if unknown:
        raise fail(f"{key}.{sorted(unknown)[0]}", f"unknown key (allowed: {', '.join(sorted(_FORM_KEYS))})")
    text = entry.get("form")
    if not isinstance(text, str) or not fold_key(text):
        raise fail(f"{key}.form", f"expected a non-empty string (got {shown(text)})")
    needs = entry.get("needs", [])
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise fail(f"{key}.needs", "expected a list of concept ids")
    for flag in ("weak", "exact_case"):
        if not isinstance(entry.get(flag, False), bool):
            raise fail(f"{key}.{flag}", f"expected true or false (form {shown(text)})")
    if needs and not entry.get("weak", False):
        raise fail(f"{key}.needs", f"only weak forms need support (form {shown(text)}: add 'weak: true')")
    return Form(
        text=text.strip(),
        language=lang,
        weak=entry.get("weak", False),
        needs=tuple(needs),
        exact_case=entry.get("exact_case", False),
    )


def _parse_phrases(value: Any, key: str, fail: Any) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(key, "expected phrases per language (ar, fr, en)")
    phrases: dict[str, tuple[str, ...]] = {}
    for lang, texts in value.items():
        if lang not in LANGUAGES:
            raise fail(f"{key}.{lang}", "unknown language (use ar, fr, en)")
        if not isinstance(texts, list) or not all(isinstance(t, str) and fold_key(t) for t in texts):
            raise fail(f"{key}.{lang}", "expected a list of non-empty phrases")
        phrases[lang] = tuple(t.strip() for t in texts)
    return phrases


def _content_hash(concepts: dict[str, Concept]) -> str:
    """A hash of what the lexicon matches: unchanged by comments, order or YAML layout."""
    payload = {
        cid: {
            "category": c.category,
            "labels": c.labels,
            "forms": sorted([f.text, f.language, f.weak, sorted(f.needs), f.exact_case] for f in c.all_forms()),
            "exclude": {k: sorted(v) for k, v in c.exclude.items()},
            "confirm": {k: sorted(v) for k, v in c.confirm.items()},
            **({"implies": sorted(c.implies)} if c.implies else {}),
        }
        for cid, c in sorted(concepts.items())
    }
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]
