"""Language stage: langdetect on a bounded prefix of the body, seeded for reproducible results."""

from __future__ import annotations

from typing import Any

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from sahel_crawler.items import ArticleItem

# langdetect samples randomly; a fixed seed makes the same text always get the same answer.
DetectorFactory.seed = 0


def detect_language(text: str, prefix_chars: int = 1500) -> tuple[str, float] | None:
    """The most probable language code of `text` and its probability, or None when undecidable."""
    sample = text[:prefix_chars]
    if not sample.strip():
        return None
    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return None
    return best.lang, round(best.prob, 4)


class LanguagePipeline:
    """Set `item.language` and `item.language_prob`; fall back to the page's declared language.

    Settings: SAHEL_LANGUAGE_PREFIX_CHARS (how much of the body to look at).
    """

    def __init__(self, prefix_chars: int) -> None:
        self.prefix_chars = prefix_chars

    @classmethod
    def from_crawler(cls, crawler: Any) -> LanguagePipeline:
        return cls(crawler.settings.getint("SAHEL_LANGUAGE_PREFIX_CHARS", 1500))

    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        detected = detect_language(item.text, self.prefix_chars)
        if detected is not None:
            item.language, item.language_prob = detected
        else:
            item.language = item.hints.get("language_hint") or item.hints.get("language")
        return item
