"""Folding of mixed Arabic, French and English text for keyword matching, with an offset map.

`fold(text)` applies the Arabic normalisation of `arabic.py` and, for Latin script, case and
accent folding (Azawad = AZAWAD, Ménaka = Menaka), typographic apostrophes (l’Azawad = l'Azawad)
and dashes (Liptako-Gourma = Liptako Gourma), removes invisible characters (zero-width joiners,
bidi marks, soft hyphens, combining accents) and collapses runs of white space. Every step
either deletes characters or replaces one character by one, so the result maps back to the
original text (see `MappedText`).

Pure functions: no I/O, no state.
"""

from __future__ import annotations

import re
import unicodedata

from sahel_crawler.text.arabic import ARABIC_CHAR_MAP, ARABIC_DELETED_CLASS, MappedText, delete_spans

__all__ = ["MappedText", "fold", "fold_key"]

_APOSTROPHES = "\u2019\u2018\u02bc\u02bb\u0060\u00b4\u2032\u055a\uff07"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00ad-"
# Zero-width space/joiners, bidi marks and embeddings, word joiner, BOM; combining accents
# of decomposed Latin text (e + U+0301).
_INVISIBLE_CLASS = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u0300-\u036f"
# Invisible marks go; after a white space character, any run of white space and invisible
# marks goes too (so "a \u064b b" folds to "a b"). Group 1 is that run, without its first space.
_INVISIBLE = f"{ARABIC_DELETED_CLASS}{_INVISIBLE_CLASS}"
_DELETED = re.compile(f"[{_INVISIBLE}]+|\\s([\\s{_INVISIBLE}]+)")


def _latin_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0x41, 0x5B):
        table[cp] = chr(cp + 32)
    for cp in range(0xC0, 0x250):
        char = chr(cp)
        base = unicodedata.normalize("NFD", char)[0].lower()
        if base.isascii() and base.isalpha():
            table[cp] = base
        elif len(char.lower()) == 1 and char.lower() != char:
            table[cp] = char.lower()
    return table


# No white space character lies at or above U+3001 (the last is U+3000, the ideographic space);
# scanning all of Unicode instead would cost every command a third of a second at start.
WHITESPACE_END = 0x3001

_TABLE: dict[int, str] = {
    **_latin_table(),
    **ARABIC_CHAR_MAP,
    **{ord(c): "'" for c in _APOSTROPHES},
    **{ord(c): " " for c in _DASHES},
    # Persian letters that Arabic-script pages use interchangeably with the Arabic ones.
    0x06CC: "ي",
    0x06A9: "ك",
    # Every white space character becomes a plain space (runs are collapsed above).
    **{cp: " " for cp in range(WHITESPACE_END) if chr(cp).isspace()},
}
_TABLE.pop(0xAD, None)  # the soft hyphen is invisible: deleted, not a space


# str.translate looks every character up in a dict; lower() plus one str.replace per distinct
# character that needs changing is several times faster on real articles.
_CHANGES = {chr(k): v for k, v in _TABLE.items() if chr(k) != v and not 0x41 <= k <= 0x5A}
_CHANGED = re.compile("[" + "".join(re.escape(c) for c in sorted(_CHANGES)) + "]")


def _translate(text: str) -> str:
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters (İ) lower-case to two characters
        return text.translate(_TABLE)
    for char in set(_CHANGED.findall(lowered)):
        lowered = lowered.replace(char, _CHANGES[char])
    return lowered


def fold(text: str) -> MappedText:
    """Fold ``text`` for matching; ``.text`` is the folded text, ``.to_original(i)`` maps back."""
    runs = [m.span(1) if m.group(1) else m.span() for m in _DELETED.finditer(text)]
    return MappedText(text, _translate(delete_spans(text, runs)), runs)


def fold_key(text: str) -> str:
    """Fold a lexicon form the way `fold` folds text, trimmed of surrounding spaces."""
    return fold(text).text.strip()
