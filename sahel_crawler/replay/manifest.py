"""The replay's answer key: what a correct crawl must store for each article page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ExpectedArticle:
    """One article page of the replay and what a correct crawl extracts from it.

    `url` is the canonical article URL as served (absolute, no tracking parameters, Arabic
    percent-encoded). `body_phrases` must appear in the extracted body, `boilerplate_phrases`
    (navigation, footer, cookie banner, related list) must not. `duplicate_of` is the URL of the
    original when the page is a syndicated near-copy. `concepts` are lexicon concept ids the text
    clearly names. `stored` is False for pages without article text.
    """

    outlet: str
    url: str
    title: str
    language: str
    published_at: datetime
    body_phrases: list[str] = field(default_factory=list)
    boilerplate_phrases: list[str] = field(default_factory=list)
    author: str | None = None
    duplicate_of: str | None = None
    concepts: list[str] = field(default_factory=list)
    stored: bool = True
