"""The extraction stage: body text, title, author, date and declared metadata of an article page.

Public API: `extract_article(html, url, rules=...)`, `ExtractedArticle`, `ExtractionRules`.
"""

from .caps import FieldCaps, cap, cap_article
from .core import MAX_HTML_CHARS, ExtractedArticle, extract_article, extract_or_reason
from .rules import ExtractionRules

__all__ = [
    "MAX_HTML_CHARS",
    "ExtractedArticle",
    "ExtractionRules",
    "FieldCaps",
    "cap",
    "cap_article",
    "extract_article",
    "extract_or_reason",
]
