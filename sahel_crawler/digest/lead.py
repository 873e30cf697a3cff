"""The lead of a story as the digest shows it: whole sentences, an ellipsis where text is cut."""

from __future__ import annotations

import re

from sahel_crawler.digest.safety import clean_text

LEAD_CHARS = 280  # about two wire-style sentences
ELLIPSIS = "…"
# A sentence ends at . ! ? ؟ or … (and any closing quote or bracket) followed by white space.
_SENTENCE_END = re.compile(r"[.!?؟…][\"'»”’)\]]*(?=\s)")


def lead_text(title: str | None, text: str | None, limit: int = LEAD_CHARS) -> str:
    """The first sentences of `text` that fit in `limit` characters, without a repeated headline;
    ends with an ellipsis when the text goes on. A first sentence longer than `limit` is cut at
    a word boundary."""
    body = clean_text(text)
    headline = clean_text(title)
    if headline and body.startswith(headline):
        body = body[len(headline) :].lstrip(" .:–—-|")
    if len(body) <= limit:
        return body
    cut = 0
    for end in _SENTENCE_END.finditer(body, 0, limit + 1):
        cut = end.end()
    if cut == 0:
        space = body.rfind(" ", 0, limit)
        cut = space if space > 0 else limit
    return body[:cut].rstrip(" ,;:") + " " + ELLIPSIS
