"""Per-item near-duplicate cost (signature + query + add) as the index grows: 10k vs 100k stored.

The index is first filled with the signatures of real texts from ../shared/corpus (France 24
Arabic, BBC Afrique French); the rest of the stored signatures are random hash values, i.e.
unrelated stories, built directly so that filling 100k stays quick. At each size, probe
articles are signed, queried and added: held-out corpus texts (new stories) and syndicated
copies of stored ones (a lead line and chrome added), half and half. Without the corpus,
synthetic texts are used throughout.

    python -m bench dedup [--sizes 10000 100000] [--probes 600] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time

import numpy as np
from datasketch import LeanMinHash

from bench.common import news_texts
from sahel_crawler.dedup import NearDuplicateIndex
from sahel_crawler.settings import SAHEL_DEDUP_THRESHOLD


def _corpus_texts() -> list[str]:
    return sorted({text for _, text in news_texts() if len(text.split()) >= 40})


def _synthetic_texts(count: int, rng: random.Random) -> list[str]:
    vocabulary = [f"w{n}" for n in range(20000)]
    return [" ".join(rng.choices(vocabulary, k=rng.randint(150, 500))) for _ in range(count)]


def _random_signatures(count: int, index: NearDuplicateIndex, rng: np.random.Generator) -> list[LeanMinHash]:
    values = rng.integers(0, 2**32, size=(count, index.num_perm), dtype=np.uint64).astype(np.uint32)
    return [LeanMinHash(seed=index.seed, hashvalues=row, scheme="affine32") for row in values]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _measure(index: NearDuplicateIndex, probes: list[str], first_key: int) -> dict:
    sign, query, add, total, hits = [], [], [], [], 0
    for n, text in enumerate(probes):
        t0 = time.perf_counter()
        signature = index.signature(text)
        t1 = time.perf_counter()
        found = index.query(signature)
        t2 = time.perf_counter()
        index.add(first_key + n, signature)
        t3 = time.perf_counter()
        sign.append(t1 - t0)
        query.append(t2 - t1)
        add.append(t3 - t2)
        total.append(t3 - t0)
        hits += found is not None

    def us(values: list[float]) -> float:
        return round(statistics.median(values) * 1e6, 1)

    return {
        "stored": first_key,
        "signature_us": us(sign),
        "query_us": us(query),
        "add_us": us(add),
        "per_item_us": us(total),
        "per_item_mean_us": round(statistics.fmean(total) * 1e6, 1),
        "duplicates_found": hits,
        "max_rss_mb": round(_rss_mb(), 1),
    }


def main(argv: list[str]) -> dict:
    """Fill the index to each size, measure per-item cost there, print and return the table."""
    parser = argparse.ArgumentParser(prog="python -m bench dedup", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--probes", type=int, default=600, help="articles measured at each size")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    np_rng = np.random.default_rng(args.seed)

    texts = _corpus_texts()
    source = "corpus" if texts else "synthetic"
    if not texts:
        texts = _synthetic_texts(4000, rng)
    rng.shuffle(texts)
    held_out = texts[: args.probes * len(args.sizes)]
    stored_texts = texts[len(held_out) :]

    index = NearDuplicateIndex(threshold=SAHEL_DEDUP_THRESHOLD)
    t0 = time.perf_counter()
    real = [index.signature(t) for t in stored_texts]
    print(f"{source}: {len(real)} stored texts signed in {time.perf_counter() - t0:.1f} s")
    fill: list[LeanMinHash] = list(real)
    results = []
    key = 0
    for step, size in enumerate(sorted(args.sizes)):
        missing = size - len(index)
        if missing > len(fill):
            fill.extend(_random_signatures(missing - len(fill), index, np_rng))
        for signature in fill[:missing]:
            index.add(key, signature)
            key += 1
        fill = fill[missing:]
        new = held_out[step * args.probes : (step + 1) * args.probes]
        copies = [
            "باماكو (أ ف ب) - اقرأ أيضا\n" + stored_texts[rng.randrange(len(stored_texts))] + "\nفرانس24/ أ ف ب"
            for _ in range(args.probes // 2)
        ]
        probes = new[: args.probes - len(copies)] + copies
        rng.shuffle(probes)
        result = _measure(index, probes, key)
        key += len(probes)
        results.append(result)

    print(
        f"{'stored':>8} {'signature':>10} {'query':>8} {'add':>8} {'per item':>9} {'mean':>8} "
        f"{'dups':>5} {'max RSS':>8}   (median µs per article)"
    )
    for r in results:
        print(
            f"{r['stored']:>8} {r['signature_us']:>10} {r['query_us']:>8} {r['add_us']:>8} "
            f"{r['per_item_us']:>9} {r['per_item_mean_us']:>8} {r['duplicates_found']:>5} {r['max_rss_mb']:>7}M"
        )
    ratio = round(results[-1]["per_item_us"] / results[0]["per_item_us"], 2)
    lookup_ratio = round(
        (results[-1]["query_us"] + results[-1]["add_us"]) / (results[0]["query_us"] + results[0]["add_us"]), 2
    )
    print(
        f"per-item ratio {results[-1]['stored']} / {results[0]['stored']}: {ratio}x "
        f"(query + add alone: {lookup_ratio}x; target within 1.5x)"
    )
    return {
        "source": source,
        "probes": args.probes,
        "results": results,
        "ratio": ratio,
        "query_add_ratio": lookup_ratio,
    }
