"""Word shingles of a normalised text, the sets that MinHash compares."""

from __future__ import annotations

import zlib

from sahel_crawler.dedup.normalize import normalized_words

DEFAULT_SHINGLE_SIZE = 3
# The 32-bit hash MinHash applies to each shingle. Pinned so persisted signatures stay
# comparable: CRC-32 is stable across versions and costs a fraction of datasketch's default
# SHA-1. Changing it invalidates the signatures stored in `article_signatures`.
SHINGLE_HASH = zlib.crc32


def shingles(text: str, k: int = DEFAULT_SHINGLE_SIZE) -> set[bytes]:
    """The set of k-word shingles of `text` (UTF-8 bytes, words joined by one space).

    A text shorter than k words gives one shingle of all its words; a text without words
    gives the empty set.
    """
    return word_shingles(normalized_words(text), k)


def word_shingles(words: list[str], k: int = DEFAULT_SHINGLE_SIZE) -> set[bytes]:
    """`shingles` of a text whose `normalized_words` are already known."""
    if k < 1:
        raise ValueError(f"shingle size must be at least 1, got {k}")
    if len(words) <= k:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + k]).encode("utf-8") for i in range(len(words) - k + 1)}
