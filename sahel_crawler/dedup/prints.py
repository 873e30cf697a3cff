"""What duplicate detection needs from a body text, computed where the text is extracted.

Normalising words and hashing shingles is most of the cost of duplicate detection; it is pure
text work, so the extraction workers do it beside extraction and hand back a few kilobytes. The
dedup stage then only builds the MinHash from the shingle hashes and queries its index. This
module imports neither numpy nor datasketch, so workers stay small.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from sahel_crawler.dedup.fingerprint import words_fingerprint
from sahel_crawler.dedup.normalize import normalized_words
from sahel_crawler.dedup.shingles import DEFAULT_SHINGLE_SIZE, SHINGLE_HASH, word_shingles

_NO_WORDS = words_fingerprint([])  # every body without words shares this fingerprint


@dataclass(frozen=True)
class TextPrints:
    """The exact fingerprint and the shingle hashes of one body text."""

    text_hash: str | None  # `text_fingerprint`; None for a text without words
    shingle_hashes: bytes  # distinct SHINGLE_HASH values of its word shingles, as array("I") bytes
    shingle_size: int = DEFAULT_SHINGLE_SIZE

    def hashes(self) -> array:
        """The shingle hashes as unsigned 32-bit integers."""
        values = array("I")
        values.frombytes(self.shingle_hashes)
        return values


def text_prints(text: str, shingle_size: int = DEFAULT_SHINGLE_SIZE) -> TextPrints:
    """Normalise `text` once; return its exact fingerprint and its shingle hashes."""
    words = normalized_words(text)
    fingerprint = words_fingerprint(words)
    hashes = array("I", sorted({SHINGLE_HASH(s) for s in word_shingles(words, shingle_size)}))
    return TextPrints(fingerprint if fingerprint != _NO_WORDS else None, hashes.tobytes(), shingle_size)
