"""Which links on a section page look like article pages."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_DATE_IN_PATH = re.compile(r"/(?:19|20)\d{2}[-/]?\d{2}[-/]?\d{2}")
_NOT_ARTICLE_SEGMENTS = {
    "tag", "tags", "category", "categories", "author", "authors", "search", "page", "rss", "feed",
    "video", "videos", "podcast", "podcasts", "live", "live-news", "login", "user", "contact",
}  # fmt: skip
_NOT_ARTICLE_SUFFIX = re.compile(r"\.(?:jpe?g|png|gif|svg|webp|pdf|mp[34]|css|js|xml|rss|zip)$", re.I)


def looks_like_article_url(url: str) -> bool:
    """A heuristic for section-page links: a dated path, or a long slug as the last segment.

    Section, tag and index pages have short or generic last segments; article slugs are long
    phrases ("mali-attaque-kidal-...") or percent-encoded Arabic titles.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    path = unquote(parts.path)
    if _NOT_ARTICLE_SUFFIX.search(path):
        return False
    segments = [s for s in path.split("/") if s]
    if not segments or any(s.lower() in _NOT_ARTICLE_SEGMENTS for s in segments):
        return False
    if _DATE_IN_PATH.search(path):
        return True
    last = segments[-1]
    words = [w for w in re.split(r"[-_]+", last) if w]
    return len(words) >= 4 or (len(last) >= 25 and not last.isascii())
