"""Reading and validating a lexicon file (YAML) into a `Lexicon`."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sahel_crawler.config_errors import shown, validated
from sahel_crawler.configfile import ConfigFileError, read_yaml
from sahel_crawler.lexicon.matcher import Matcher
from sahel_crawler.lexicon.model import LANGUAGES, Concept, ConceptHit, Form, LexiconError, implied_by
from sahel_crawler.text.fold import MappedText, fold_key

DEFAULT_PATH = Path(__file__).with_name("lexicon.yaml")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


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

    def concept_spans(self, mapped: MappedText) -> list[tuple[str, int, int]]:
        """Every match of a concept in the folded text `mapped`: (concept, start, end), by start."""
        return self._matcher.spans(mapped)

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
    shape = "key 'concepts': expected a list of concepts at the top level"
    document = validated(
        _LexiconFile, raw, file, error=LexiconError, container="concepts", entry="concept", shape=shape
    )
    concepts: dict[str, Concept] = {}
    for entry in document.concepts:
        if entry.id in concepts:
            raise LexiconError(f"{file}: concept {shown(entry.id)}: key 'id': defined twice")
        concepts[entry.id] = entry.concept()
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


def _word(problem: str) -> Any:
    def check(value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"{problem} (got {shown(value)})")
        return value

    return AfterValidator(check)


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError("unknown language (use ar, fr, en)")
    return value


def _foldable(value: str) -> str:
    if not fold_key(value):
        raise ValueError(f"expected a non-empty string (got {shown(value)})")
    return value.strip()


def _label(value: str) -> str:
    if not value.strip():
        raise ValueError("expected a non-empty string")
    return value.strip()


def _three_labels(labels: dict[str, str]) -> dict[str, str]:
    if set(labels) != set(LANGUAGES):
        raise ValueError("expected a label in each of ar, fr, en")
    return {lang: labels[lang] for lang in LANGUAGES}


_Language = Annotated[str, AfterValidator(_language)]
_Text = Annotated[str, AfterValidator(_foldable)]
_Phrases = dict[_Language, list[_Text]]


class _FormEntry(BaseModel):
    """One form of a concept: a string, or a mapping with `form` and its flags."""

    model_config = ConfigDict(extra="forbid", strict=True)

    form: _Text
    weak: bool = False
    exact_case: bool = False
    needs: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, entry: Any) -> Any:
        if isinstance(entry, str):
            return {"form": entry}
        if not isinstance(entry, dict):
            raise ValueError(f"expected a string or a mapping with 'form' (got {shown(entry)})")
        return entry

    @field_validator("needs")
    @classmethod
    def _only_weak_forms_need(cls, needs: list[str], info: ValidationInfo) -> list[str]:
        if needs and not info.data.get("weak"):
            raise ValueError(f"only weak forms need support (form {shown(info.data.get('form'))}: add 'weak: true')")
        return needs


class _ConceptEntry(BaseModel):
    """One concept as the lexicon file writes it (docs/lexicon.md)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: Annotated[str, _word("expected lower-case letters, digits and _")]
    category: Annotated[str, _word("expected a lower-case word such as armed_group")]
    labels: Annotated[dict[str, Annotated[str, AfterValidator(_label)]], AfterValidator(_three_labels)]
    forms: Annotated[dict[_Language, Annotated[list[_FormEntry], Field(min_length=1)]], Field(min_length=1)]
    exclude: _Phrases = {}
    confirm: _Phrases = {}
    implies: list[Annotated[str, _word("expected concept ids")]] = []

    @field_validator("implies")
    @classmethod
    def _not_itself(cls, implies: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("id") in implies:
            raise ValueError("a concept cannot imply itself")
        return list(dict.fromkeys(implies))

    def concept(self) -> Concept:
        """The lexicon's Concept for this entry."""
        return Concept(
            id=self.id,
            category=self.category,
            labels=self.labels,
            forms={
                lang: tuple(
                    Form(text=f.form, language=lang, weak=f.weak, needs=tuple(f.needs), exact_case=f.exact_case)
                    for f in entries
                )
                for lang, entries in self.forms.items()
            },
            exclude={lang: tuple(texts) for lang, texts in self.exclude.items()},
            confirm={lang: tuple(texts) for lang, texts in self.confirm.items()},
            implies=tuple(self.implies),
        )


class _LexiconFile(BaseModel):
    """The whole lexicon file."""

    model_config = ConfigDict(extra="forbid")

    concepts: list[_ConceptEntry]
    format: Any = None
    anchors: Any = None


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
