"""Language stage: langdetect on a bounded prefix of the body, seeded for reproducible results.

It runs inside the extraction stage's worker processes (pipelines/extract.py), next to the
extraction it depends on, so it costs the reactor nothing.
"""

from __future__ import annotations

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

# langdetect samples randomly; a fixed seed makes the same text always get the same answer.
DetectorFactory.seed = 0


def detect_language(text: str, prefix_chars: int = 1000) -> tuple[str, float] | None:
    """The most probable language code of `text` and its probability, or None when undecidable."""
    sample = text[:prefix_chars]
    if not sample.strip():
        return None
    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return None
    return best.lang, round(best.prob, 4)
