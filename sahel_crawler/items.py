"""The one item that flows from the spider through the pipelines to storage.

The spider fills the "fetched" fields; each pipeline stage fills its own block and
never rewrites another stage's fields. Storage reads the finished item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sahel_crawler.dedup import TextPrints


@dataclass
class ArticleItem:
    """An article page as fetched, enriched stage by stage on its way to the database."""

    # -- filled by the spider ---------------------------------------------------------
    url: str  # the URL the page was finally served from (after redirects)
    outlet: str  # outlet id from the sources registry
    html: str  # the decoded page (response.text): never bytes, see DESIGN.md
    fetched_at: datetime  # aware, UTC
    requested_url: str = ""  # the URL as discovered (feed, sitemap or section link)
    discovered_via: str = ""  # "feed" | "sitemap" | "section"
    # what the feed or sitemap said about the article: title, published_at (datetime), language
    hints: dict[str, Any] = field(default_factory=dict)

    # -- canonicalisation -------------------------------------------------------------
    canonical_url: str = ""  # the article's key in the database
    aliases: list[str] = field(default_factory=list)  # other URLs the article was reached by

    # -- extraction -------------------------------------------------------------------
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None  # aware, UTC
    published_at_source: str | None = None  # jsonld | meta | url | feed | sitemap | text
    text: str = ""
    description: str | None = None
    standfirst: str | None = None  # the lead paragraph shown on the page (text starts with it)
    paywalled: bool = False  # the page declares itself subscriber-only
    text_source: str = "page"  # "page" | "feed" (a teaser from the feed: the page was refused)
    # duplicate fingerprints of `text`, computed beside extraction for the dedup stage
    text_prints: TextPrints | None = None

    # -- language ---------------------------------------------------------------------
    language: str | None = None
    language_prob: float | None = None

    # -- duplicates -------------------------------------------------------------------
    text_hash: str | None = None
    duplicate_of: str | None = None  # canonical URL of the first-seen copy of this story
    minhash: bytes | None = None  # serialised near-duplicate signature

    # -- keywords and search ----------------------------------------------------------
    # one dict per matched concept: concept, form, count, first_offset, snippet
    keyword_hits: list[dict[str, Any]] = field(default_factory=list)
    lexicon_version: str | None = None
    # one dict per place name found (sahel_crawler.places.PlaceHit fields); None: not looked for
    place_hits: list[dict[str, Any]] | None = None
    # the search-index text of title, description and text, folded (made beside extraction;
    # None: storage folds it)
    search_text: str | None = None
