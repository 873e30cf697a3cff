"""Arabic text normalisation shared by keyword matching, near-duplicate shingling and search.

Pure functions: no I/O, no state.
"""

from __future__ import annotations

import re

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
