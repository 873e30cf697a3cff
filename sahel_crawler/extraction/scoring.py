"""Quality scores of extracted text against a reference text.

The metric is the article-extraction benchmark's own (scrapinghub/article-extraction-benchmark,
evaluate.py): counts of shared 4-token shingles of `\\w+` tokens, normalised per page so long
pages do not weigh more; precision and recall are averaged over pages and F1 is their harmonic
mean, which makes our figures comparable with the published ones.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4


@dataclass(frozen=True)
class PageScore:
    """Shingle counts of one page, normalised to sum to 1 (tp, fp, fn)."""

    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float:
        """Share of predicted shingles that are in the reference."""
        if self.fp == self.fn == 0:
            return 1.0
        if self.tp == self.fp == 0:
            return 0.0
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        """Share of reference shingles that were predicted."""
        if self.fp == self.fn == 0:
            return 1.0
        if self.tp == self.fn == 0:
            return 0.0
        return self.tp / (self.tp + self.fn)


def shingles(text: str | None) -> Counter[tuple[str, ...]]:
    """Counts of the 4-token shingles of a text."""
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1)) if tokens)


def score_page(reference: str | None, predicted: str | None) -> PageScore:
    """Score one page's predicted body text against its reference body text."""
    true, pred = shingles(reference), shingles(predicted)
    tp = sum((true & pred).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    if total == 0:
        return PageScore(0.0, 0.0, 0.0)
    return PageScore(tp / total, fp / total, fn / total)


def aggregate(scores: Iterable[PageScore]) -> dict[str, float]:
    """Precision and recall averaged over pages, and F1 of those averages."""
    scores = list(scores)
    precisions = [s.precision for s in scores if s.tp + s.fp > 0]
    recalls = [s.recall for s in scores if s.tp + s.fn > 0]
    precision = statistics.fmean(precisions) if precisions else 0.0
    recall = statistics.fmean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pages": len(scores)}
