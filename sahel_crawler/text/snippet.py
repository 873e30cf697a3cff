"""Search snippets in the text as published: matches are found in the folded text, as the
index finds them, and shown in the original around them, accents and Arabic letters kept."""

from __future__ import annotations

import re

from sahel_crawler.text.arabic import word_variants
from sahel_crawler.text.fold import fold
from storage.documents import separate_tokens

SNIPPET_CHARS = 200
ELLIPSIS = "…"
_WORD = re.compile(r"[^\W_]+")  # the words of the index and of the query (storage.search)


def original_snippet(document: str, terms: list[list[str]], marks: tuple[str, str] = ("[", "]")) -> str:
    """About SNIPPET_CHARS characters of `document` around its first match of `terms` (folded
    query terms as `storage.search.parse_query` gives them), every match in it between `marks`,
    whitespace collapsed, an ellipsis where the text is cut. The document's start when nothing
    matches (a match the back end found in a form this does not re-find)."""
    spans = match_spans(document, terms)
    lo, hi = window(document, *(spans[0] if spans else (0, 0)))
    pieces = []
    done = lo
    for start, end in spans:
        if start >= lo and end <= hi:
            pieces += [document[done:start], marks[0], document[start:end], marks[1]]
            done = end
    pieces.append(document[done:hi])
    shown = " ".join("".join(pieces).split())
    return (ELLIPSIS + " " if lo > 0 else "") + shown + (" " + ELLIPSIS if hi < len(document) else "")


def window(text: str, start: int, end: int, width: int = SNIPPET_CHARS) -> tuple[int, int]:
    """About `width` characters of `text` around `[start, end)`, cut at spaces: (start, end)."""
    side = max(0, (width - (end - start)) // 2)
    lo, hi = max(0, start - side), min(len(text), end + side)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    return lo, hi


def match_spans(document: str, terms: list[list[str]]) -> list[tuple[int, int]]:
    """Spans of `document` (original offsets, in order) where a query term matches: a word with
    one of its Arabic variants, or a phrase of consecutive words."""
    mapped = fold(document)
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(separate_tokens(mapped.text))]
    spans = []
    for term in terms:
        if len(term) == 1:
            forms = set(word_variants(term[0]))
            spans += [(s, e) for s, e, w in words if w in forms]
        else:
            for i in range(len(words) - len(term) + 1):
                if all(words[i + k][2] == word for k, word in enumerate(term)):
                    spans.append((words[i][0], words[i + len(term) - 1][1]))
    return sorted({mapped.span_to_original(s, e) for s, e in spans})
