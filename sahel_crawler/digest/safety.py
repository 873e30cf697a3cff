"""Making crawled text safe to show: no bidi overrides, no control characters, only web links."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Explicit embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): crawled text could
# use them to make a title read differently from what it is, or to scramble the lines after it.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# C0/C1 controls other than whitespace, which have no business in a title or snippet.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")


def clean_text(value: str | None) -> str:
    """`value` without bidi override or control characters, whitespace collapsed to single spaces."""
    if not value:
        return ""
    return _SPACES.sub(" ", _CONTROLS.sub("", _BIDI_CONTROLS.sub("", value))).strip()


def safe_url(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL with a host, else None (shown as text, never linked)."""
    if not url or _CONTROLS.search(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url
