"""Duplicate stage: exact copies become aliases of the kept article, near-copies point to the
story's original.

Runs after language detection and before storage. Exact duplicates (the same normalised body
under another canonical URL) are dropped; their URLs are recorded as aliases of the kept article.
Near-duplicates (MinHash LSH over normalised word shingles) are stored with `duplicate_of` set
to the canonical URL of the story's original: the earliest-published copy, or the first seen
when publication times are missing or equal. The index holds a recent window of the persisted
signatures, so memory and per-item cost do not grow with the archive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured

from sahel_crawler.dedup import NearDuplicateIndex, Signature, text_prints
from sahel_crawler.items import ArticleItem
from storage import dedup_queries as q
from storage import repository as repo
from storage.db import open_database, session_factory
from storage.lookups import Lookups, StoredVersion

logger = logging.getLogger(__name__)


class ExactDuplicate(DropItem):
    """The same body text as an article already kept under another URL: recorded as its alias."""


@dataclass
class _InFlight:
    """What this stage did for an item that has not reached the database yet."""

    key: str
    text_hash: str | None
    indexed: bool  # added to the index by this item (undone if a later stage drops it)
    replaced_original: str | None = None  # the original this earlier-published item replaces
    aliases_waiting: list[str] = field(default_factory=list)


class DedupPipeline:
    """Set `text_hash` and `minhash` on every article; drop exact duplicates (alias of the kept
    article, `sahel/exact_duplicates`); mark near-duplicates with `duplicate_of`
    (`sahel/near_duplicates`). A refetched stored article (`sahel crawl --refresh`) is an update,
    never a duplicate: when its text or title changed, the previous version is kept in
    `article_revisions`.

    Settings:
        SAHEL_DEDUP_ENABLED      False disables the stage (NotConfigured).
        SAHEL_DEDUP_WINDOW_DAYS  signatures created in this many days are loaded at start.
        SAHEL_DEDUP_MAX_ITEMS    most signatures held in memory, newest kept.
        SAHEL_DEDUP_THRESHOLD    estimated Jaccard similarity of word shingles from which two
                                 texts are near-duplicates.
        SAHEL_DB_URL             the database.
    """

    def __init__(self, db_url: str, stats: Any, *, window_days: float, max_items: int | None, threshold: float) -> None:
        self.db_url = db_url
        self.stats = stats
        self.window = timedelta(days=window_days)
        self.index = NearDuplicateIndex(threshold=threshold, max_items=max_items)
        self.Session: Any = None  # transactions that write
        self.lookups: Lookups | None = None  # they never wait for the storage stage's writes
        self._engine: Any = None
        self._published: dict[str, datetime | None] = {}  # indexed key -> publication time
        self._original_of: dict[str, str] = {}  # duplicate's key -> its original's key (never a chain)
        # text hash -> key of an article kept in this crawl and not committed yet (once committed,
        # the database answers, so memory does not grow with the crawl)
        self._run_hashes: dict[str, str] = {}
        self._in_flight: dict[int, _InFlight] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupPipeline:
        """Build the stage from the crawler's settings."""
        settings = crawler.settings
        if not settings.getbool("SAHEL_DEDUP_ENABLED"):
            raise NotConfigured("SAHEL_DEDUP_ENABLED is off")
        max_items = settings.getint("SAHEL_DEDUP_MAX_ITEMS")
        pipeline = cls(
            settings["SAHEL_DB_URL"],
            crawler.stats,
            window_days=settings.getfloat("SAHEL_DEDUP_WINDOW_DAYS"),
            max_items=max_items if max_items > 0 else None,
            threshold=settings.getfloat("SAHEL_DEDUP_THRESHOLD"),
        )
        crawler.signals.connect(pipeline.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(pipeline.item_lost, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.item_lost, signal=signals.item_error)
        return pipeline

    # -- lifecycle ------------------------------------------------------------------------------

    def open_spider(self, spider: Any = None) -> None:
        """Connect to the database and load the recent window of signatures, oldest first."""
        self._engine = open_database(self.db_url)
        self.Session = session_factory(self._engine)
        self.lookups = Lookups(self._engine)
        since = datetime.now(UTC) - self.window
        with self.Session.begin() as session:
            stored = q.load_recent_signatures(session, since, self.index.max_items)
        unreadable = 0
        for row in stored:
            try:
                signature = self.index.load_signature(row.signature)
            except ValueError:  # made with other parameters: cannot be compared
                unreadable += 1
                continue
            self._index(row.url, signature, row.published_at)
            if row.duplicate_of_url:
                self._original_of[row.url] = row.duplicate_of_url
        logger.info(
            "near-duplicate index: %d signatures since %s%s",
            len(self.index), f"{since:%Y-%m-%d}", f" ({unreadable} unreadable, ignored)" if unreadable else "",
        )  # fmt: skip

    def close_spider(self, spider: Any = None) -> None:
        """Close the database connection."""
        if self.lookups is not None:
            self.lookups.close()
            self.lookups = None
        if self._engine is not None:
            self._engine.dispose()

    # -- items ----------------------------------------------------------------------------------

    def process_item(self, item: Any, spider: Any = None) -> Any:
        """Fingerprint and sign the article; drop it if it is an exact duplicate."""
        if not isinstance(item, ArticleItem):
            return item
        key = item.canonical_url or item.url
        # The extraction workers fingerprint the text beside extraction; compute it here otherwise.
        prints = item.text_prints or text_prints(item.text, self.index.shingle_size)
        item.text_hash = prints.text_hash
        signature = self.index.signature_from_prints(prints)
        item.minhash = self.index.dump_signature(signature)

        # Lookups read without taking SQLite's write lock (the storage stage may be writing a
        # batch meanwhile); the rare writes below take it only when there is something to write.
        stored = self.lookups.stored_version(key)
        kept = None if stored is not None else self._find_kept(item, key)
        if stored is not None:
            self._note_update(item, stored)
        elif kept is not None:
            self._record_exact_duplicate(item, key, *kept)
            self.stats.inc_value("sahel/exact_duplicates")
            raise ExactDuplicate(f"exact duplicate of {kept[0]}")

        flight = _InFlight(key, item.text_hash, indexed=key not in self.index)
        if stored is None:
            self._mark_near_duplicate(item, key, signature, flight)
        self._index(key, signature, item.published_at)
        if item.text_hash:
            self._run_hashes.setdefault(item.text_hash, key)
        self._in_flight[id(item)] = flight
        return item

    def _note_update(self, item: ArticleItem, stored: StoredVersion) -> None:
        # Refetched (--refresh, or a concurrent crawl stored it first): an update, not a duplicate.
        if stored.text != item.text or stored.title != item.title:
            with self.Session.begin() as session:
                q.record_revision(session, stored, self.stats.get_value("sahel/run_id"))

    def _find_kept(self, item: ArticleItem, key: str) -> tuple[str, int | None] | None:
        """(key, id or None while not committed) of the article kept with the same body."""
        if item.text_hash is None:
            return None
        kept_key, kept_id = self._run_hashes.get(item.text_hash), None  # in flight: no id yet
        if kept_key is None:
            found = self.lookups.kept_with_text_hash(item.text_hash)
            if found is None:
                return None
            kept_id, kept_key = found
        if kept_key == key:
            return None
        return kept_key, kept_id

    def _record_exact_duplicate(self, item: ArticleItem, key: str, kept_key: str, kept_id: int | None) -> None:
        """Record this item's URLs as aliases of the kept article (once it is stored)."""
        urls = [key, *(u for u in item.aliases if u != kept_key)]
        if kept_id is None:  # kept earlier in this crawl but not committed yet
            waiting = next((f for f in self._in_flight.values() if f.key == kept_key), None)
            if waiting is not None:
                waiting.aliases_waiting.extend(urls)
        else:
            with self.Session.begin() as session:
                for url in urls:
                    repo.add_alias(session, kept_id, url, reason="exact_duplicate")

    def _mark_near_duplicate(self, item: ArticleItem, key: str, signature: Signature, flight: _InFlight) -> None:
        matches = [k for k, _ in self.index.matches(signature) if k != key]
        if not matches:
            return
        original = self._original_of.get(str(matches[0]), str(matches[0]))
        if original == key:
            return
        original_published = self._published.get(original)
        if item.published_at and original_published and item.published_at < original_published:
            # A copy was seen first but this one was published earlier: it is the story's original.
            self._replace_original(original, key)
            flight.replaced_original = original
            return
        item.duplicate_of = original
        self._original_of[key] = original
        self.stats.inc_value("sahel/near_duplicates")

    def _replace_original(self, old: str, new: str) -> None:
        for duplicate, original in self._original_of.items():
            if original == old:
                self._original_of[duplicate] = new
        self._original_of[old] = new

    def _index(self, key: str, signature: Signature, published_at: datetime | None) -> None:
        # Mirror the index's own eviction (oldest first) in the bookkeeping maps.
        full = self.index.max_items is not None and len(self.index) >= self.index.max_items
        if full and key not in self.index and not signature.is_empty():
            oldest = str(next(iter(self.index)))
            self._published.pop(oldest, None)
            self._original_of.pop(oldest, None)
        self.index.add(key, signature)
        if key in self.index:
            self._published[key] = published_at

    # -- after the later stages -----------------------------------------------------------------

    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        """Once the item is stored: write waiting aliases and re-point a replaced original."""
        flight = self._in_flight.pop(id(item), None)
        if flight is None:
            return
        if flight.text_hash and self._run_hashes.get(flight.text_hash) == flight.key:
            del self._run_hashes[flight.text_hash]  # the database finds it from now on
        if not flight.aliases_waiting and flight.replaced_original is None:
            return
        with self.Session.begin() as session:
            if flight.aliases_waiting:
                article_id = repo.article_id_for_url(session, flight.key)
                for url in flight.aliases_waiting if article_id is not None else ():
                    repo.add_alias(session, article_id, url, reason="exact_duplicate")
            if flight.replaced_original is not None and q.repoint_duplicates(
                session, flight.replaced_original, flight.key
            ):
                self.stats.inc_value("sahel/near_duplicates")

    def item_lost(self, item: Any, response: Any = None, spider: Any = None, **kwargs: Any) -> None:
        """A later stage dropped or failed the item: forget what this stage remembered of it."""
        flight = self._in_flight.pop(id(item), None)
        if flight is None:
            return
        if flight.indexed:
            self.index.discard(flight.key)
            self._published.pop(flight.key, None)
            self._original_of.pop(flight.key, None)
        if flight.text_hash and self._run_hashes.get(flight.text_hash) == flight.key:
            del self._run_hashes[flight.text_hash]
        if flight.replaced_original is not None:
            self._original_of.pop(flight.replaced_original, None)
            for duplicate, original in list(self._original_of.items()):
                if original == flight.key:
                    self._original_of[duplicate] = flight.replaced_original
