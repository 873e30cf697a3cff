"""Word normalisation shared by exact fingerprints and near-duplicate shingles."""

from __future__ import annotations

import re
import unicodedata

from sahel_crawler.text.arabic import normalize_arabic

# Letters and digits of any script; punctuation, symbols and spacing all separate words.
_WORD = re.compile(r"[^\W_]+")
# The combining diacritic blocks (Latin accents after NFKD); Arabic marks go in normalize_arabic.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def normalized_words(text: str) -> list[str]:
    """Split text into comparable words: case, punctuation, spacing and diacritics ignored.

    NFKC first folds Arabic presentation forms and full-width characters; Arabic spelling
    variants are folded by `normalize_arabic`; Latin accents are dropped (syndicated copies
    sometimes lose them, e.g. upper-cased headlines).
    """
    folded = normalize_arabic(unicodedata.normalize("NFKC", text))
    stripped = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return _WORD.findall(stripped.casefold())
