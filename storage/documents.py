"""The text an article is indexed by for full-text search.

Pure text, no database: the crawl's extraction workers build and fold it beside the article's
text, without loading SQLAlchemy.
"""

from __future__ import annotations


def search_document(title: str | None, description: str | None, text: str | None) -> str:
    """The text an article is indexed by (normalise it before `storage.search.index_articles`)."""
    return "\n\n".join(part for part in (title, description, text) if part)
