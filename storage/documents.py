"""The text an article is indexed by for full-text search.

Pure text, no database: the crawl's extraction workers build and fold it beside the article's
text, without loading SQLAlchemy.
"""

from __future__ import annotations

import re

# Characters that make the back ends' tokenizers disagree: PostgreSQL's parser reads `<...>` as
# a tag (and skips everything after an unclosed `<script>`), `&...;` as an entity, and keeps
# `1.500`, `u.s.`, `france24.com`, `/a/b`, `a_b` and e-mail addresses as single tokens, where
# SQLite's unicode61 tokenizer and the query split them into words. A full stop, colon or comma
# only counts between two word characters, so sentences keep their punctuation in snippets.
_TOKEN_JOINERS = re.compile(r"[<>&@/\\_]|(?<=[^\W_])[.:,](?=[^\W_])")
# A standfirst is recognised in a body by its first characters: enough to be unmistakable, few
# enough that a meta description cut short ("…") or re-punctuated still matches.
STANDFIRST_HEAD_CHARS = 60


def contains_standfirst(text: str, standfirst: str) -> bool:
    """True when the body already holds the standfirst (its first words, whitespace aside)."""
    head = " ".join(standfirst.split())[:STANDFIRST_HEAD_CHARS].rstrip(".…")
    return not head or head in " ".join(text.split())


def search_document(title: str | None, description: str | None, text: str | None) -> str:
    """The text an article is indexed by (normalise it before `storage.search.index_articles`).

    The description is left out when the body already begins with it (the extraction stage
    leads the body with its standfirst): its words would count twice in the ranking.
    """
    if description and text and contains_standfirst(text, description):
        description = None
    return "\n\n".join(part for part in (title, description, text) if part)


def separate_tokens(text: str) -> str:
    """`text` with the characters that join words in one back end's tokenizer but not the
    other's turned into spaces, so SQLite and PostgreSQL index the same words."""
    return _TOKEN_JOINERS.sub(" ", text)
