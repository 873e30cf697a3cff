"""Duplicate detection: exact body fingerprints and a MinHash LSH near-duplicate index.

Pure building blocks for the dedup pipeline stage: no I/O, no database, no Scrapy.
"""

from sahel_crawler.dedup.fingerprint import text_fingerprint, words_fingerprint
from sahel_crawler.dedup.near import NearDuplicateIndex, Signature
from sahel_crawler.dedup.normalize import normalized_words
from sahel_crawler.dedup.shingles import DEFAULT_SHINGLE_SIZE, shingles, word_shingles

__all__ = [
    "DEFAULT_SHINGLE_SIZE",
    "NearDuplicateIndex",
    "Signature",
    "normalized_words",
    "shingles",
    "text_fingerprint",
    "word_shingles",
    "words_fingerprint",
]
