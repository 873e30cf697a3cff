"""The text the full-text search index holds for an article.

Its document (`storage.documents.search_document`), folded as the keyword lexicon folds it, with
the characters the database back ends' word splitters treat differently turned into spaces. One
definition for the crawl's workers, the storage stage, `sahel db upgrade` and `sahel search`;
light enough for the workers (no Scrapy, no SQLAlchemy).
"""

from __future__ import annotations

from sahel_crawler.text.fold import fold
from storage.documents import search_document, separate_tokens


def search_normalise(document: str) -> str:
    """An indexed document (or a text to index) as the search index holds it."""
    return separate_tokens(fold(document).text)


def search_text(title: str | None, description: str | None, text: str | None) -> str:
    """The search-index text of an article: its indexed document, normalised, so that a folded
    query finds every spelling the folding unifies."""
    return search_normalise(search_document(title, description, text))
