"""Duplicate detection: exact body fingerprints and a MinHash LSH near-duplicate index.

Pure building blocks for the dedup pipeline stage: no I/O, no database, no Scrapy. The index
(`NearDuplicateIndex`, `Signature`) loads datasketch, and with it numpy and scipy, on first use:
the extraction workers import `text_prints` only and stay small.
"""

from __future__ import annotations

from typing import Any

from sahel_crawler.dedup.fingerprint import text_fingerprint, words_fingerprint
from sahel_crawler.dedup.normalize import normalized_words
from sahel_crawler.dedup.prints import TextPrints, text_prints
from sahel_crawler.dedup.shingles import DEFAULT_SHINGLE_SIZE, shingles, word_shingles

__all__ = [
    "DEFAULT_SHINGLE_SIZE",
    "NearDuplicateIndex",
    "Signature",
    "TextPrints",
    "normalized_words",
    "shingles",
    "text_fingerprint",
    "text_prints",
    "word_shingles",
    "words_fingerprint",
]


def __getattr__(name: str) -> Any:
    if name in ("NearDuplicateIndex", "Signature"):
        from sahel_crawler.dedup import near

        return getattr(near, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
