"""Flagging one article: the pure step shared by the crawl pipeline and `sahel reflag`."""

from __future__ import annotations

from sahel_crawler.lexicon.loader import Lexicon
from sahel_crawler.lexicon.model import ConceptHit


def article_text(title: str | None, text: str | None) -> str:
    """The text an article is flagged on; hit offsets refer to it."""
    return (title or "") + "\n\n" + (text or "")


def flag_article(lexicon: Lexicon, title: str | None, text: str | None) -> list[ConceptHit]:
    """Concept hits of an article's title and body (offsets into `article_text(title, text)`).

    All forms are used whatever the detected language: an Arabic article quoting "JNIM" or a
    misdetected language must not lose its hits.
    """
    return lexicon.match(article_text(title, text))
