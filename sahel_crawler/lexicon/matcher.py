"""One Aho-Corasick pass over folded text, with Arabic proclitics, word boundaries and context.

Every form, exclusion phrase and confirmation phrase of the lexicon is folded (`fold_key`) and
put into a single automaton. Arabic forms are stored without their definite article, so that
the letters in front of a match can be checked against the proclitics Arabic attaches to a
noun (و ف ب ل ك, ال and their combinations: والطوارق, بأزواد, للطوارق); Latin forms need a
non-alphanumeric character on both sides (l'Azawad, Mali's). A hit is then
1. dropped when it lies inside an exclusion phrase of its concept (الوضع المالي, fleuve Niger);
2. dropped when it lies strictly inside a longer hit of another concept (Azawad inside
   "Front de libération de l'Azawad");
3. if its form is weak, kept only inside a confirmation phrase of its concept (منطقة الساحل) or
   when the document has a strong hit of the same concept or of a concept the form needs.
Last, a concept hit also flags the concepts it `implies` (fla implies azawad), at its offset.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import accumulate
from typing import Literal

import ahocorasick

from sahel_crawler.lexicon.model import Concept, ConceptHit, implied_by
from sahel_crawler.text.arabic import ARABIC_ARTICLE, ARABIC_ARTICLE_PREFIXES, ARABIC_BARE_PREFIXES
from sahel_crawler.text.arabic import LONGEST_ARABIC_PREFIX as _LONGEST_PREFIX
from sahel_crawler.text.fold import MappedText, fold, fold_key
from sahel_crawler.text.snippet import SNIPPET_CHARS, window

_ARTICLE = ARABIC_ARTICLE
_BARE_PREFIXES = frozenset(ARABIC_BARE_PREFIXES)
_ARTICLE_PREFIXES = frozenset(ARABIC_ARTICLE_PREFIXES)

Kind = Literal["form", "exclude", "confirm"]


@dataclass(frozen=True)
class _Entry:
    """What one automaton key stands for (several entries can share a key)."""

    kind: Kind
    concept: str
    language: str
    arabic: bool  # left boundary checked against Arabic proclitics
    article: bool  # the key is the form without its definite article
    weak: bool = False
    needs: tuple[str, ...] = ()
    exact: str | None = None  # the form as written, for case-sensitive forms


@dataclass
class _Match:
    start: int  # normalised offsets, start includes proclitics
    end: int
    entry: _Entry


def _is_arabic(char: str) -> bool:
    return "\u0600" <= char <= "\u06ff"


def _key_variants(text: str) -> list[tuple[str, bool]]:
    """Automaton keys of one form or phrase, each with whether its article was removed."""
    key = fold_key(text)
    if not key:
        return []
    if _is_arabic(key[0]):
        if key.startswith(_ARTICLE) and len(key) > len(_ARTICLE) + 1:
            return [(key[len(_ARTICLE) :], True)]
        return [(key, False)]
    keys = [(key, False)]
    # Jama'at / Jamaat: transliterations are written with and without the apostrophe.
    inner = key.strip("'")
    if "'" in inner:
        keys.append((key.replace("'", ""), False))
    return keys


class Matcher:
    """The compiled automaton of a set of concepts; build once, call `match` per text."""

    def __init__(self, concepts: dict[str, Concept]) -> None:
        table: dict[str, list[_Entry]] = {}
        self._implied = {cid: implied_by(concepts, cid) for cid, c in concepts.items() if c.implies}

        def add(text: str, entry_args: dict) -> None:
            for key, article in _key_variants(text):
                entry = _Entry(arabic=_is_arabic(key[0]), article=article, **entry_args)
                table.setdefault(key, []).append(entry)

        for concept in concepts.values():
            for form in concept.all_forms():
                add(
                    form.text,
                    {
                        "kind": "form",
                        "concept": concept.id,
                        "language": form.language,
                        "weak": form.weak,
                        "needs": form.needs,
                        "exact": form.text if form.exact_case else None,
                    },
                )
            for kind, phrases in (("exclude", concept.exclude), ("confirm", concept.confirm)):
                for lang, texts in phrases.items():
                    for text in texts:
                        add(text, {"kind": kind, "concept": concept.id, "language": lang})
        self._automaton = ahocorasick.Automaton()
        for key, entries in table.items():
            self._automaton.add_word(key, (len(key), tuple(entries)))
        if table:
            self._automaton.make_automaton()
        self._empty = not table
        self.languages = frozenset(f.language for c in concepts.values() for f in c.all_forms())

    def match(self, text: str, language: str | None = None) -> list[ConceptHit]:
        """Concept hits in ``text``, in order of first appearance.

        ``language`` restricts matching to the forms of that language when the lexicon has
        any; otherwise (or when None) all forms are used.
        """
        if self._empty or not text:
            return []
        mapped = fold(text)
        lang = language if language in self.languages else None
        matches = self._raw_matches(mapped, lang)
        if not matches:
            return []
        kept, rule = self._resolve(matches, mapped)
        return self._with_implied(_summarise(kept, mapped, rule))

    def spans(self, mapped: MappedText) -> list[tuple[str, int, int]]:
        """Every kept match in the folded text `mapped` (from `fold`): (concept, start, end) in
        folded offsets, by start; the matches `match` summarises, for proximity queries. A match
        also stands for the concepts its concept implies, at the same place."""
        if self._empty or not mapped.text:
            return []
        kept, _ = self._resolve(self._raw_matches(mapped, None), mapped)
        found = {(m.entry.concept, m.start, m.end) for m in kept}
        found |= {(implied, m.start, m.end) for m in kept for implied in self._implied.get(m.entry.concept, ())}
        return sorted(found)

    def _raw_matches(self, mapped: MappedText, lang: str | None) -> list[_Match]:
        norm = mapped.text
        size = len(norm)
        found: list[_Match] = []
        for last, (length, entries) in self._automaton.iter(norm):
            end = last + 1
            if end < size and norm[end].isalnum():
                continue
            start = end - length
            word_start = start
            prefix_ok: bool | None = None
            for entry in entries:
                if lang is not None and entry.kind == "form" and entry.language != lang:
                    continue
                if entry.arabic:
                    if prefix_ok is None:
                        word_start = start
                        while word_start > 0 and norm[word_start - 1].isalnum():
                            word_start -= 1
                            if start - word_start > _LONGEST_PREFIX:
                                break
                        prefix = norm[word_start:start]
                        prefix_ok = True
                    allowed = _ARTICLE_PREFIXES if entry.article else _BARE_PREFIXES
                    if prefix not in allowed:
                        continue
                    found.append(_Match(word_start, end, entry))
                else:
                    if start > 0 and norm[start - 1].isalnum():
                        continue
                    if entry.exact is not None:
                        o_start, o_end = mapped.span_to_original(start, end)
                        if mapped.original[o_start:o_end] != entry.exact:
                            continue
                    found.append(_Match(start, end, entry))
        return found

    def _resolve(self, matches: list[_Match], mapped: MappedText) -> tuple[list[_Match], Callable[[_Match], str]]:
        """The matches kept after exclusions, overlaps and weak forms, and the rule explaining
        why a kept match counts."""
        context: dict[tuple[Kind, str], list[tuple[int, int]]] = {}
        hits: list[_Match] = []
        for m in matches:
            if m.entry.kind == "form":
                hits.append(m)
            else:
                context.setdefault((m.entry.kind, m.entry.concept), []).append((m.start, m.end))
        phrases = {key: _Spans(spans) for key, spans in context.items()}

        def inside(m: _Match, kind: Kind) -> bool:
            spans = phrases.get((kind, m.entry.concept))
            return spans is not None and spans.contain(m.start, m.end)

        hits = [m for m in hits if not inside(m, "exclude")]
        kept = _outermost(hits)
        strong = {m.entry.concept for m in kept if not m.entry.weak or inside(m, "confirm")}
        final = [
            m
            for m in kept
            if not m.entry.weak
            or m.entry.concept in strong
            or inside(m, "confirm")
            or any(n in strong for n in m.entry.needs)
        ]

        def rule(m: _Match) -> str:
            """Why a kept match counts, as `sahel lexicon test` shows it."""
            if not m.entry.weak:
                return "strong"
            if inside(m, "confirm"):
                phrase = next((s, e) for s, e in context[("confirm", m.entry.concept)] if s <= m.start and m.end <= e)
                start, end = mapped.span_to_original(*phrase)
                return f"weak, confirmed by {mapped.original[start:end]!r}"
            support = m.entry.concept if m.entry.concept in strong else next(n for n in m.entry.needs if n in strong)
            return f"weak, with {support}"

        return final, rule

    def _with_implied(self, hits: list[ConceptHit]) -> list[ConceptHit]:
        """Add the concepts the hits imply (azawad for fla) where the text has no hit of its own."""
        found = {hit.concept for hit in hits}
        added: list[ConceptHit] = []
        for hit in hits:
            for implied in self._implied.get(hit.concept, ()):
                if implied not in found:
                    found.add(implied)
                    added.append(replace(hit, concept=implied, rule=f"implied by {hit.concept}"))
        if not added:
            return hits
        return sorted(hits + added, key=lambda h: h.first_offset)


class _Spans:
    """Spans of phrases, answering "does one of them contain [start, end)?" in log time.

    A live blog naming a place thousands of times has thousands of hits and phrases: comparing
    every hit with every phrase would grow with the square of the text.
    """

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self._starts = [s for s, _ in spans]
        # the furthest end among the spans starting at or before each position of the list
        self._reach = list(accumulate((e for _, e in spans), max))

    def contain(self, start: int, end: int) -> bool:
        """True when a span [s, e) has s <= start and end <= e."""
        last = bisect_right(self._starts, start) - 1
        return last >= 0 and self._reach[last] >= end


def _outermost(hits: list[_Match]) -> list[_Match]:
    """The hits kept after overlaps: one per concept and span, none inside a longer hit of
    another concept; in order of start, longest first.

    The hits are visited by start, so every hit kept earlier starts at or before the current
    one: it contains the current hit exactly when it ends at or after it, and is longer unless
    both spans are the same. Three running maxima answer that in constant time.
    """
    hits = sorted(hits, key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[_Match] = []
    furthest_end = -1  # of every kept hit
    first_start_by_end: dict[int, int] = {}  # earliest start of a kept hit ending there
    furthest_end_by_concept: dict[str, int] = {}
    for m in hits:
        longer = furthest_end > m.end or first_start_by_end.get(m.end, m.start) < m.start
        same_concept = furthest_end_by_concept.get(m.entry.concept, -1) >= m.end
        if longer or same_concept:
            continue
        kept.append(m)
        furthest_end = max(furthest_end, m.end)
        first_start_by_end.setdefault(m.end, m.start)
        concept = m.entry.concept
        furthest_end_by_concept[concept] = max(furthest_end_by_concept.get(concept, -1), m.end)
    return kept


def _summarise(matches: list[_Match], mapped: MappedText, rule: Callable[[_Match], str]) -> list[ConceptHit]:
    first: dict[str, _Match] = {}
    counts: dict[str, int] = {}
    for m in matches:
        concept = m.entry.concept
        counts[concept] = counts.get(concept, 0) + 1
        if concept not in first or m.start < first[concept].start:
            first[concept] = m
    result = []
    for concept, m in first.items():
        start, end = mapped.span_to_original(m.start, m.end)
        result.append(
            ConceptHit(
                concept=concept,
                form=mapped.original[start:end],
                count=counts[concept],
                first_offset=start,
                snippet=make_snippet(mapped.original, start, end),
                rule=rule(m),
            )
        )
    result.sort(key=lambda h: h.first_offset)
    return result


def make_snippet(text: str, start: int, end: int, width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of ``text`` around ``[start, end)``, cut at spaces, whitespace collapsed."""
    lo, hi = window(text, start, end, width)
    return " ".join(text[lo:hi].split())
