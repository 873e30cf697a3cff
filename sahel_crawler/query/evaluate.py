"""Deciding whether one article matches a query tree, and the snippet around its match.

Words and phrases are matched on the article's search document (title, standfirst, text) after
the folding of the search index, an Arabic word also with a proclitic in front (as `sahel
search` does); `concept:` and `category:` use the article's stored keyword hits, and inside
NEAR and SENTENCE the lexicon's matches in that same document. Words are counted on the
folded text; sentences end at . ! ? ؟ … or a line break of the original text.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sahel_crawler.lexicon import Lexicon
from sahel_crawler.lexicon.matcher import make_snippet
from sahel_crawler.query.ast import And, Field, Near, Node, Not, Or, Phrase, Sentence, Term, Word, leaves
from sahel_crawler.query.parser import QueryError, date_bound
from sahel_crawler.text.arabic import word_variants
from sahel_crawler.text.fold import MappedText, fold, fold_key
from storage.documents import search_document, separate_tokens

_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = re.compile(r"[.!?\u061f\u2026]+(?=\s|$)|\n")
_POSITIONAL_FIELDS = ("concept", "category")
Span = tuple[int, int]  # first and last word index


@dataclass(frozen=True)
class ArticleFacts:
    """What a query looks at in one stored article."""

    article_id: int
    url: str
    outlet: str
    language: str | None
    title: str | None
    description: str | None
    text: str
    published_at: datetime | None
    fetched_at: datetime
    duplicate_of: int | None
    concepts: frozenset[str]

    @property
    def dated_at(self) -> datetime:
        return self.published_at if self.published_at is not None else self.fetched_at

    @cached_property
    def document(self) -> _Document:
        return _Document(search_document(self.title, self.description, self.text))


class _Document:
    """An article's search document, folded and split into words, analysed once."""

    def __init__(self, original: str) -> None:
        self.mapped: MappedText = fold(original)
        words = list(_WORD.finditer(separate_tokens(self.mapped.text)))
        self.words = [m.group() for m in words]
        self.starts = [m.start() for m in words]
        self.ends = [m.end() for m in words]
        breaks = [m.start() for m in _SENTENCE_END.finditer(original)]
        self.sentence = [bisect_right(breaks, self.mapped.to_original(start)) for start in self.starts]
        self._concepts: list[tuple[str, int, int]] | None = None

    def text_spans(self, words: list[str]) -> list[Span]:
        first = set(word_variants(words[0])) if len(words) == 1 else {words[0]}
        size = len(words)
        return [
            (i, i + size - 1)
            for i, word in enumerate(self.words)
            if word in first and self.words[i + 1 : i + size] == words[1:]
        ]

    def concept_spans(self, lexicon: Lexicon, concepts: frozenset[str]) -> list[Span]:
        if self._concepts is None:
            self._concepts = lexicon.concept_spans(self.mapped)
        spans = []
        for concept, start, end in self._concepts:
            if concept in concepts:
                first = max(0, bisect_right(self.starts, start) - 1)
                spans.append((first, max(first, bisect_left(self.starts, end) - 1)))
        return spans

    def snippet(self, span: Span) -> str:
        start, end = self.mapped.span_to_original(self.starts[span[0]], self.ends[span[1]])
        return make_snippet(self.mapped.original, start, end)


def _words_between(a: Span, b: Span) -> int:
    if a[1] < b[0]:
        return b[0] - a[1] - 1
    if b[1] < a[0]:
        return a[0] - b[1] - 1
    return 0


class QueryEvaluator:
    """Evaluates query trees against articles with one lexicon (for concepts and categories)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.categories: dict[str, frozenset[str]] = {}
        for concept in lexicon.concepts.values():
            self.categories[concept.category] = self.categories.get(concept.category, frozenset()) | {concept.id}

    def check(self, node: Node, query: str) -> None:
        """QueryError pointing at the first concept or category the lexicon does not have, or
        at a field that NEAR or SENTENCE cannot place in the text."""
        for leaf in leaves(node):
            if not isinstance(leaf, Field):
                continue
            value = leaf.value.lower()
            if leaf.name == "concept" and value not in self.lexicon.concepts:
                problem = f"unknown concept {leaf.value!r} (not in the lexicon, docs/lexicon.md)"
                raise QueryError(query, leaf.at, problem)
            if leaf.name == "category" and value not in self.categories:
                known = ", ".join(sorted(self.categories))
                raise QueryError(query, leaf.at, f"unknown category {leaf.value!r} (known: {known})")
        for pair in _pairs(node):
            for term in (pair.left, pair.right):
                if isinstance(term, Field) and term.name not in _POSITIONAL_FIELDS:
                    raise QueryError(query, term.at, f"{term.name}: is not in the text: NEAR and SENTENCE "
                                     "take words, phrases, concept: and category:")  # fmt: skip

    def matches(self, node: Node, facts: ArticleFacts) -> bool:
        """Whether the article matches the (checked) query."""
        if isinstance(node, And):
            return all(self.matches(item, facts) for item in node.items)
        if isinstance(node, Or):
            return any(self.matches(item, facts) for item in node.items)
        if isinstance(node, Not):
            return not self.matches(node.item, facts)
        if isinstance(node, Field):
            return self._field(node, facts)
        if isinstance(node, Word | Phrase):
            return bool(self.spans(node, facts))
        left, right = self.spans(node.left, facts), self.spans(node.right, facts)
        if isinstance(node, Near):
            return any(_words_between(a, b) <= node.distance for a in left for b in right)
        sentence = facts.document.sentence
        return bool({sentence[a[0]] for a in left} & {sentence[b[0]] for b in right})

    def spans(self, term: Term, facts: ArticleFacts) -> list[Span]:
        """Where a word, phrase, concept or category stands in the article (word indexes)."""
        document = facts.document
        if isinstance(term, Field):
            if term.name not in _POSITIONAL_FIELDS or not self._field(term, facts):
                return []
            return document.concept_spans(self.lexicon, self._concepts_of(term))
        words = _WORD.findall(separate_tokens(fold_key(term.text)))
        return document.text_spans(words) if words else []

    def snippet(self, node: Node, facts: ArticleFacts) -> str:
        """Original text around the first place the query's terms (not under a NOT) match."""
        found = [span for term in leaves(node, positive_only=True) for span in self.spans(term, facts)]
        if found:
            return facts.document.snippet(min(found))
        return make_snippet(facts.text, 0, 0)

    def _concepts_of(self, term: Field) -> frozenset[str]:
        value = term.value.lower()
        return frozenset({value}) if term.name == "concept" else self.categories.get(value, frozenset())

    def _field(self, term: Field, facts: ArticleFacts) -> bool:
        value = term.value.lower()
        if term.name in _POSITIONAL_FIELDS:
            return bool(self._concepts_of(term) & facts.concepts)
        if term.name == "lang":
            return (facts.language or "").lower() == value
        if term.name == "outlet":
            return facts.outlet.lower() == value
        bound = date_bound(term.value, end=term.name == "until")
        return facts.dated_at >= bound if term.name == "since" else facts.dated_at < bound


def _pairs(node: Node) -> list[Near | Sentence]:
    if isinstance(node, Near | Sentence):
        return [node]
    if isinstance(node, Not):
        return _pairs(node.item)
    if isinstance(node, And | Or):
        return [pair for item in node.items for pair in _pairs(item)]
    return []
