"""Exact-duplicate fingerprint of an article body."""

from __future__ import annotations

import hashlib

from sahel_crawler.dedup.normalize import normalized_words


def text_fingerprint(text: str) -> str:
    """SHA-256 (64 hex characters) of the normalised words of a body text.

    Equal for texts that differ only in whitespace, case, punctuation, Arabic diacritics and
    spelling variants, or Latin accents; stored in `articles.text_hash`. Every text without
    words (empty, punctuation only) shares one fingerprint, so callers skip empty bodies.
    """
    return words_fingerprint(normalized_words(text))


def words_fingerprint(words: list[str]) -> str:
    """`text_fingerprint` of a text whose `normalized_words` are already known."""
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()
