"""Arabic text normalisation shared by keyword matching, near-duplicate shingling and search.

Pure functions: no I/O, no state.
"""

from __future__ import annotations

import re
from bisect import bisect_right

# Tashkeel (harakat, tanwin, shadda, sukun), superscript alef and Quranic marks.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_CHAR_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Extended (Persian) digits
    }
)


def normalize_arabic(text: str) -> str:
    """Fold Arabic spelling variants so that equal words compare equal.

    Removes diacritics and tatweel, unifies alef forms, ya/alef maqsura, ta marbuta/ha,
    hamza seats, and maps Arabic-Indic digits to ASCII. Non-Arabic text passes through.
    The result may be shorter than the input (removed marks).
    """
    return _DIACRITICS.sub("", text).replace(_TATWEEL, "").translate(_CHAR_MAP)


# -- Proclitics ------------------------------------------------------------------------
# Arabic attaches proclitics to the noun that follows: keyword matching accepts these in front
# of a form, and search expands a query word with them.
ARABIC_ARTICLE = "ال"
# Proclitic letters that may precede a noun without the article, and those before the article.
ARABIC_BARE_PREFIXES = ("", "و", "ف", "ب", "ل", "ك", "وب", "ول", "وك", "فب", "فل", "فك")
ARABIC_ARTICLE_PREFIXES = ("ال", "وال", "فال", "بال", "كال", "لل", "وبال", "فبال", "وكال", "فكال", "ولل", "فلل")
LONGEST_ARABIC_PREFIX = max(map(len, ARABIC_ARTICLE_PREFIXES))


def _is_arabic(word: str) -> bool:
    return "\u0600" <= word[0] <= "\u06ff"


def word_variants(word: str) -> list[str]:
    """The forms a normalised word matches: itself, and for an Arabic word, the word with each
    proclitic (and the article) in front."""
    if not word or not _is_arabic(word):
        return [word]
    stem = word[len(ARABIC_ARTICLE) :] if word.startswith(ARABIC_ARTICLE) and len(word) > 3 else word
    forms = [word] + [p + stem for p in (*ARABIC_BARE_PREFIXES, *ARABIC_ARTICLE_PREFIXES)]
    return list(dict.fromkeys(forms))


# -- Normalisation that remembers where each character came from -------------------------
# Keyword hits are found in normalised text but reported (offset, snippet, form) in the text
# as published, so every normalisation used for matching keeps an offset map. Characters are
# either deleted or replaced one-for-one; only deletions shift offsets, so the map is stored as
# the deletion runs alone and costs nothing for text that has none.

# Characters deleted by `normalize_arabic`, as a regex character class body.
ARABIC_DELETED_CLASS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640"
# One-for-one replacements of `normalize_arabic`, as a `str.translate` table.
ARABIC_CHAR_MAP: dict[int, str] = dict(_CHAR_MAP)
_ARABIC_DELETED = re.compile(f"[{ARABIC_DELETED_CLASS}]+")


class MappedText:
    """Normalised text with a map from each of its positions back to the original text.

    Built by deleting runs of characters (found by a regex) and translating the rest one
    character for one, so position ``i`` of ``text`` is position ``to_original(i)`` of the
    original, and the character there normalises to ``text[i]``.
    """

    __slots__ = ("_cum", "_sit", "original", "text")

    def __init__(self, original: str, text: str, runs: list[tuple[int, int]]) -> None:
        self.original = original
        self.text = text
        # For each deletion run: the normalised position it sits at, and the number of
        # original characters deleted up to and including it.
        self._sit: list[int] = []
        self._cum: list[int] = []
        deleted = 0
        for start, end in runs:
            self._sit.append(start - deleted)
            deleted += end - start
            self._cum.append(deleted)

    def to_original(self, index: int) -> int:
        """Original offset of the normalised character at ``index`` (``len(text)`` maps to the end)."""
        if index >= len(self.text):
            return len(self.original)
        if not self._sit:
            return index
        k = bisect_right(self._sit, index)
        return index + (self._cum[k - 1] if k else 0)

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` span covering the normalised span ``[start, end)``."""
        if end <= start:
            o = self.to_original(start)
            return o, o
        return self.to_original(start), self.to_original(end - 1) + 1

    def offsets(self) -> list[int]:
        """The original offset of every normalised character (for tests and debugging)."""
        return [self.to_original(i) for i in range(len(self.text))]


def map_normalise(text: str, deleted: re.Pattern[str], table: dict[int, str]) -> MappedText:
    """Delete every match of ``deleted``, translate the rest with ``table`` (one char for one)."""
    runs = [m.span() for m in deleted.finditer(text)]
    return MappedText(text, delete_spans(text, runs).translate(table), runs)


def delete_spans(text: str, runs: list[tuple[int, int]]) -> str:
    """``text`` without the (start, end) spans of ``runs`` (sorted, not overlapping)."""
    if not runs:
        return text
    pieces = []
    last = 0
    for start, end in runs:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def normalize_arabic_mapped(text: str) -> MappedText:
    """`normalize_arabic` with an offset map back to ``text``; ``.text`` equals `normalize_arabic(text)`."""
    return map_normalise(text, _ARABIC_DELETED, ARABIC_CHAR_MAP)
