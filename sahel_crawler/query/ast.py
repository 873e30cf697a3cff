"""The tree of a parsed query; `str(node)` prints a query that parses back to the same tree.

Positions (`at`, offsets into the query as typed) are for error messages and take no part in
comparing trees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KEYWORDS = frozenset({"AND", "OR", "NOT"})
FIELDS = ("concept", "category", "lang", "outlet", "since", "until")
# Characters that end a bare word: they are the syntax of the language.
SYNTAX_CHARS = frozenset('()",')
NEAR = re.compile(r"NEAR/(\d+)$")


@dataclass(frozen=True)
class Word:
    """A word as typed; it matches after folding (and, in Arabic, with a proclitic)."""

    text: str
    at: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Phrase:
    """Words that must follow one another."""

    text: str
    at: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f'"{self.text}"'


@dataclass(frozen=True)
class Field:
    """`name:value`: concept, category, lang, outlet, since or until."""

    name: str
    value: str
    at: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{self.name}:{self.value}"


@dataclass(frozen=True)
class Not:
    item: Node

    def __str__(self) -> str:
        return f"NOT {_operand(self.item)}"


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]

    def __str__(self) -> str:
        return " AND ".join(_operand(item) for item in self.items)


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]

    def __str__(self) -> str:
        return " OR ".join(_operand(item) for item in self.items)


@dataclass(frozen=True)
class Near:
    """Two terms at most `distance` words apart."""

    distance: int
    left: Term
    right: Term

    def __str__(self) -> str:
        return f"NEAR/{self.distance}({self.left}, {self.right})"


@dataclass(frozen=True)
class Sentence:
    """Two terms in the same sentence."""

    left: Term
    right: Term

    def __str__(self) -> str:
        return f"SENTENCE({self.left}, {self.right})"


Term = Word | Phrase | Field
Node = Word | Phrase | Field | Not | And | Or | Near | Sentence


def _operand(node: Node) -> str:
    """A node printed as an operand of NOT, AND or OR: an AND or OR is bracketed, so that the
    printed query groups exactly as the tree does."""
    return f"({node})" if isinstance(node, And | Or) else str(node)


def leaves(node: Node, *, positive_only: bool = False) -> list[Term]:
    """The terms of a query, left to right (without those under a NOT, if `positive_only`)."""
    if isinstance(node, Word | Phrase | Field):
        return [node]
    if isinstance(node, Not):
        return [] if positive_only else leaves(node.item)
    if isinstance(node, And | Or):
        return [leaf for item in node.items for leaf in leaves(item, positive_only=positive_only)]
    return [node.left, node.right]


def required_concepts(node: Node) -> frozenset[str]:
    """Concept ids every matching article is flagged with: the database prefilter."""
    if isinstance(node, Field):
        return frozenset({node.value.lower()}) if node.name == "concept" else frozenset()
    if isinstance(node, And):
        return frozenset().union(*(required_concepts(item) for item in node.items))
    if isinstance(node, Or):
        return frozenset.intersection(*(required_concepts(item) for item in node.items))
    if isinstance(node, Near | Sentence):
        return required_concepts(node.left) | required_concepts(node.right)
    return frozenset()
