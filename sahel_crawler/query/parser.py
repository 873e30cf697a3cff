"""Parsing a query (docs/queries.md) into its tree: a hand-written recursive descent.

query    := or EOF
or       := and ("OR" and)*
and      := unary (["AND"] unary)*          two operands side by side mean AND
unary    := "NOT" unary | primary
primary  := "(" or ")" | NEAR/N "(" term "," term ")" | SENTENCE "(" term "," term ")" | term
term     := field:value | word | "a phrase"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sahel_crawler.query.ast import (
    FIELDS,
    KEYWORDS,
    NEAR,
    SYNTAX_CHARS,
    And,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Sentence,
    Term,
    Word,
)

_HAS_WORD = re.compile(r"[^\W_]")
_FIELD_NAME = re.compile(r"([A-Za-z]+):")
# Column names of full-text engines, refused as fields rather than searched as words.
_COLUMNS = frozenset({"title", "description", "text", "body", "url", "author"})
MAX_NEAR_DISTANCE = 1000


class QueryError(ValueError):
    """A malformed query; the message points at the offending position."""

    def __init__(self, query: str, position: int, problem: str) -> None:
        self.query = query
        self.position = position
        self.problem = problem
        shown = query[position : position + 20] or "the end"
        where = f"at character {position + 1} ({shown!r})" if position < len(query) else "at the end"
        super().__init__(f"malformed query {where}: {problem}")


@dataclass(frozen=True)
class _Token:
    kind: str  # word | phrase | ( | ) | ,
    text: str
    at: int


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "(),":
            tokens.append(_Token(char, char, i))
            i += 1
        elif char == '"':
            end = query.find('"', i + 1)
            if end == -1:
                raise QueryError(query, i, 'this " opens a phrase that is never closed')
            tokens.append(_Token("phrase", query[i + 1 : end], i))
            i = end + 1
        else:
            start = i
            while i < len(query) and not query[i].isspace() and query[i] not in SYNTAX_CHARS:
                i += 1
            tokens.append(_Token("word", query[start:i], start))
    return tokens


def date_bound(value: str, *, end: bool) -> datetime:
    """A since:/until: value as an aware UTC time; a bare date as `until` includes that day.
    ValueError when it is not a date (YYYY-MM-DD) or ISO 8601 time."""
    if len(value) == 10:
        day = date.fromisoformat(value)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _tokens(query)
        self.i = 0

    def fail(self, problem: str, token: _Token | None = None) -> QueryError:
        token = token or self.peek()
        return QueryError(self.query, token.at if token else len(self.query), problem)

    def peek(self, ahead: int = 0) -> _Token | None:
        index = self.i + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise self.fail("the query ends where a word, field or ( was expected")
        self.i += 1
        return token

    def expect(self, kind: str, problem: str) -> _Token:
        token = self.peek()
        if token is None or token.kind != kind:
            raise self.fail(problem)
        return self.take()

    def is_keyword(self, token: _Token | None, word: str) -> bool:
        return token is not None and token.kind == "word" and token.text == word

    def parse(self) -> Node:
        if not self.tokens:
            raise QueryError(self.query, len(self.query), "the query is empty: no word to search for")
        node = self.parse_or()
        token = self.peek()
        if token is not None:
            problem = "this ) closes nothing" if token.kind == ")" else f"unexpected {token.text!r}"
            raise self.fail(problem)
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.is_keyword(self.peek(), "OR"):
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while True:
            token = self.peek()
            if self.is_keyword(token, "AND"):
                self.take()
            elif token is None or token.kind in ")," or self.is_keyword(token, "OR"):
                break
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Node:
        if self.is_keyword(self.peek(), "NOT"):
            self.take()
            return Not(self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.take()
        if token.kind == "(":
            node = self.parse_or()
            self.expect(")", f"expected ) to close the ( at character {token.at + 1}")
            return node
        if token.kind in "),":
            raise self.fail(f"expected a word, field or ( before {token.text!r}", token)
        following = self.peek()
        if token.kind == "word" and following is not None and following.kind == "(":
            near = NEAR.match(token.text)
            if near or token.text == "SENTENCE":
                return self.parse_pair(token, int(near.group(1)) if near else None)
            if token.text == "NEAR":
                raise self.fail("NEAR needs a distance in words: NEAR/N(a, b)", token)
        if token.kind == "word" and token.text in KEYWORDS:
            raise self.fail(f"{token.text} needs a word, field or ( after it" if token.text == "NOT"
                            else f"{token.text} needs a word, field or ( on each side", token)  # fmt: skip
        return self.term(token)

    def parse_pair(self, operator: _Token, distance: int | None) -> Node:
        self.take()  # (
        left = self.term(self.take())
        self.expect(",", f"{operator.text.split('/')[0]}(a, b) takes two terms separated by a comma")
        right = self.term(self.take())
        self.expect(")", f"expected ) to close {operator.text}(")
        if distance is None:
            return Sentence(left, right)
        if distance > MAX_NEAR_DISTANCE:
            raise self.fail(f"NEAR/{distance}: the distance is at most {MAX_NEAR_DISTANCE} words", operator)
        return Near(distance, left, right)

    def term(self, token: _Token) -> Term:
        if token.kind == "phrase":
            if not _HAS_WORD.search(token.text):
                raise self.fail("the phrase has no word in it", token)
            if "*" in token.text:
                raise self.fail("wildcards (*) are not supported", token)
            return Phrase(token.text, token.at)
        if token.kind != "word" or token.text in KEYWORDS or NEAR.match(token.text) or token.text == "SENTENCE":
            raise self.fail(f"expected a word, a field or a phrase, not {token.text!r}", token)
        if "{" in token.text or "}" in token.text:
            raise self.fail("column sets ({a b}:) are not supported: search looks in title and text alike", token)
        name = _FIELD_NAME.match(token.text)
        if name and token.text == name.group(0) and name.group(1) not in FIELDS and name.group(1) not in _COLUMNS:
            return Word(name.group(1), token.at)  # "Mali: attaque": a colon ending a word is punctuation
        if name:
            return self.field(token, name.group(1))
        if "*" in token.text:
            raise self.fail("wildcards (*) are not supported", token)
        if not _HAS_WORD.search(token.text):
            raise self.fail(f"{token.text!r} has no letter or digit: no word to search for", token)
        if token.text.startswith("-"):
            raise self.fail(f"use NOT {token.text[1:]} to exclude a word", token)
        return Word(token.text, token.at)

    def field(self, token: _Token, name: str) -> Field:
        value = token.text[len(name) + 1 :]
        if name not in FIELDS:
            raise self.fail(f"unknown field {name}: (the fields are {', '.join(f + ':' for f in FIELDS)})", token)
        if not value:
            raise self.fail(f"{name}: needs a value right after the colon", token)
        if name in ("since", "until"):
            try:
                date_bound(value, end=name == "until")
            except (ValueError, OverflowError):
                raise self.fail(f"{name}:{value} is not a date (YYYY-MM-DD) or ISO 8601 time", token) from None
        return Field(name, value, token.at)


def parse_query(query: str) -> Node:
    """The tree of `query`; QueryError (a ValueError) pointing at the problem when malformed."""
    return _Parser(query).parse()
