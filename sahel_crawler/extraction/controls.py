"""Characters no XML tree can hold, taken out of a page before it is parsed.

lxml refuses a C0 control character (other than tab, line feed and carriage return) or U+FFFE /
U+FFFF in any text node; HTML parsing turns a numeric reference such as ``&#27;`` into that
character, and one of them anywhere made the whole page yield no text.
"""

from __future__ import annotations

import re

# Raw: dropped, except vertical tab and form feed, which HTML treats as white space.
_RAW_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\ufffe\uffff]")
_RAW_SPACES = re.compile("[\x0b\x0c]")
# Decimal or hexadecimal references, with or without the closing semicolon.
_NUMERIC_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?")
_FORBIDDEN = frozenset([*range(0x01, 0x09), *range(0x0E, 0x20), 0xFFFE, 0xFFFF])
_SPACE_LIKE = frozenset({0x0B, 0x0C})


def _reference(match: re.Match[str]) -> str:
    hexadecimal, decimal = match.groups()
    code = int(hexadecimal, 16) if hexadecimal else int(decimal)
    if code in _FORBIDDEN:
        return ""
    return " " if code in _SPACE_LIKE else match[0]


def remove_control_characters(html: str) -> str:
    """`html` without control characters lxml cannot hold, raw or as numeric references."""
    html = _RAW_SPACES.sub(" ", _RAW_CONTROLS.sub("", html))
    if "&#" in html:
        html = _NUMERIC_REFERENCE.sub(_reference, html)
    return html
