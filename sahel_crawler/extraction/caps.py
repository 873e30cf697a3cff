"""Upper bounds on the size of each stored field of an article, whatever the page or feed says."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .core import ExtractedArticle


@dataclass(frozen=True)
class FieldCaps:
    """Most characters kept of each field (SAHEL_MAX_TITLE_CHARS, SAHEL_MAX_AUTHOR_CHARS,
    SAHEL_MAX_DESCRIPTION_CHARS, SAHEL_MAX_TEXT_CHARS)."""

    title: int
    author: int
    description: int
    text: int


def cap(value: str | None, limit: int) -> str | None:
    """`value` cut to at most `limit` characters (trailing whitespace of the cut dropped)."""
    if value is None or len(value) <= limit:
        return value
    return value[:limit].rstrip()


def cap_article(article: ExtractedArticle, caps: FieldCaps) -> ExtractedArticle:
    """`article` with each text field cut to its cap."""
    return replace(
        article,
        title=cap(article.title, caps.title),
        author=cap(article.author, caps.author),
        description=cap(article.description, caps.description),
        standfirst=cap(article.standfirst, caps.description),
        text=cap(article.text, caps.text) or "",
    )
