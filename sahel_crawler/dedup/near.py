"""Near-duplicate detection with MinHash LSH (datasketch) over normalised word shingles.

The index is an in-memory window, not the archive: at start the caller loads the persisted
signatures of a recent window (e.g. the last 30 days of `article_signatures`, oldest first),
then signs, queries and adds each new article. LSH buckets keep a query's cost independent of
how many signatures the index holds; `max_items` caps memory for long runs by forgetting the
oldest signatures first (datasketch's in-memory band buckets dominate the memory; bench/dedup.py
measures it, docs/performance.md has the figures).
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from sahel_crawler.dedup.prints import TextPrints
from sahel_crawler.dedup.shingles import DEFAULT_SHINGLE_SIZE, SHINGLE_HASH, shingles

Signature = LeanMinHash
"""A compact MinHash signature of one article (datasketch `LeanMinHash`)."""

# Pinned so persisted signatures stay comparable across datasketch upgrades (datasketch applies
# its permutations to SHINGLE_HASH values). Changing it invalidates the signatures stored in
# `article_signatures`.
_SCHEME = "affine32"
# LSH only proposes candidates and every candidate is verified against the threshold, so
# its band layout leans towards recall: missed pairs cost more than extra checks.
_LSH_WEIGHTS = (0.2, 0.8)
_BYTEORDER = "<"


class NearDuplicateIndex:
    """Finds the first-seen earlier article whose text is a near-duplicate of a new one.

    Two texts are near-duplicates when the estimated Jaccard similarity of their word
    shingles is at least `threshold`. LSH proposes candidates; each candidate is checked
    against its stored signature, so bucket collisions below the threshold never match.

    Keys are whatever the caller uses to name articles (database ids). Signatures from
    another `num_perm` or `seed` are rejected, since they cannot be compared.
    """

    def __init__(
        self,
        *,
        threshold: float,
        num_perm: int = 128,
        shingle_size: int = DEFAULT_SHINGLE_SIZE,
        seed: int = 1,
        max_items: int | None = None,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if max_items is not None and max_items < 1:
            raise ValueError(f"max_items must be positive, got {max_items}")
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.seed = seed
        self.max_items = max_items
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=_LSH_WEIGHTS)
        # Permutations are the costly part of building a MinHash: draw them once.
        self._permutations = MinHash(num_perm=num_perm, seed=seed, scheme=_SCHEME).permutations
        # key -> (insertion rank, hash values); insertion order is first-seen order.
        self._entries: OrderedDict[Hashable, tuple[int, np.ndarray]] = OrderedDict()
        self._next_rank = 0

    def signature(self, text: str) -> Signature:
        """The MinHash signature of a body text (compute once per article, then persist)."""
        return self._sign(shingles(text, self.shingle_size), SHINGLE_HASH)

    def signature_from_prints(self, prints: TextPrints) -> Signature:
        """The same signature as `signature(text)`, from the text's precomputed `text_prints`."""
        if prints.shingle_size != self.shingle_size:
            raise ValueError(f"prints use {prints.shingle_size}-word shingles; this index uses {self.shingle_size}")
        return self._sign(prints.hashes(), int)  # the values are SHINGLE_HASH outputs already

    def _sign(self, parts: Iterable[Any], hashfunc: Callable[[Any], int]) -> Signature:
        minhash = MinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            permutations=self._permutations,
            scheme=_SCHEME,
            hashfunc=hashfunc,
        )
        minhash.update_batch(list(parts))
        return LeanMinHash(minhash)

    def matches(self, signature: Signature) -> list[tuple[Hashable, float]]:
        """All indexed keys at or above the threshold with their estimated Jaccard, first-seen first."""
        self._check(signature)
        if signature.is_empty():
            return []
        found = []
        for key in self._lsh.query(signature):
            rank, values = self._entries[key]
            similarity = float(np.count_nonzero(values == signature.hashvalues)) / self.num_perm
            if similarity >= self.threshold:
                found.append((rank, key, similarity))
        return [(key, similarity) for _, key, similarity in sorted(found, key=lambda f: f[0])]

    def query(self, signature: Signature) -> Hashable | None:
        """The first-seen indexed key whose text is a near-duplicate, or None.

        An empty signature (a text without words) never matches.
        """
        found = self.matches(signature)
        return found[0][0] if found else None

    def add(self, key: Hashable, signature: Signature) -> None:
        """Index a signature under `key`; re-adding a key replaces its signature in place
        (an updated article keeps its first-seen position). Empty signatures are ignored."""
        self._check(signature)
        if signature.is_empty():
            return
        rank = self._next_rank
        if key in self._entries:
            rank = self._entries[key][0]
            self._lsh.remove(key)
        else:
            self._next_rank += 1
        self._lsh.insert(key, signature, check_duplication=False)
        self._entries[key] = (rank, signature.hashvalues)
        if self.max_items is not None and len(self._entries) > self.max_items:
            oldest, _ = self._entries.popitem(last=False)
            self._lsh.remove(oldest)

    def discard(self, key: Hashable) -> None:
        """Forget `key` if it is indexed."""
        if self._entries.pop(key, None) is not None:
            self._lsh.remove(key)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._entries)

    def dump_signature(self, signature: Signature) -> bytes:
        """Serialise a signature for `article_signatures.signature` (portable byte order)."""
        self._check(signature)
        buffer = bytearray(signature.bytesize(byteorder=_BYTEORDER))
        signature.serialize(buffer, byteorder=_BYTEORDER)
        return bytes(buffer)

    def load_signature(self, data: bytes) -> Signature:
        """Read back a signature written by `dump_signature`; ValueError if it is corrupt
        or was made with other parameters (num_perm, seed, hashing scheme)."""
        try:
            signature = LeanMinHash.deserialize(data, byteorder=_BYTEORDER)
        except (struct.error, ValueError, TypeError) as exc:
            raise ValueError(f"not a stored signature ({exc})") from None
        self._check(signature)
        return signature

    def _check(self, signature: Signature) -> None:
        if not isinstance(signature, LeanMinHash):
            raise TypeError(f"expected a signature from NearDuplicateIndex.signature, got {signature!r}")
        if len(signature) != self.num_perm or signature.seed != self.seed or signature.scheme != _SCHEME:
            raise ValueError(
                f"signature made with num_perm={len(signature)}, seed={signature.seed}, "
                f"scheme={signature.scheme}; this index uses num_perm={self.num_perm}, seed={self.seed}"
            )
