"""Language detection: langdetect on a bounded prefix of the body, among the languages the
monitor expects, seeded for reproducible results.

It runs inside the extraction stage's worker processes (pipelines/page_task.py), next to the
extraction it depends on, so it costs the reactor nothing.

Only a prefix of the body is read (SAHEL_LANGUAGE_PREFIX_CHARS), since langdetect's cost follows
the length of its input, and detection chooses among DEFAULT_LANGUAGES: the monitor's three, the
other languages of the region's press and wire copy, the Arabic-script languages an Arabic text
could be taken for, and Japanese and Chinese so that an East Asian page is not labelled with a
language of another script; `all` restores every profile. docs/performance.md has the figures.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import cache
from typing import Any

from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException

DEFAULT_TRIALS = 2
DEFAULT_LANGUAGES = (
    *("ar", "fr", "en"),
    *("es", "pt", "de", "it", "nl", "tr", "ru", "id", "so", "sw"),
    *("fa", "ur"),
    *("ja", "zh-cn"),
)


def known_languages() -> tuple[str, ...]:
    """Every language code langdetect has a profile for."""
    return tuple(sorted(os.listdir(PROFILES_DIRECTORY)))


def candidate_languages(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """The languages detection chooses among, from a setting ("ar,fr,en", a list, or "all").

    None (or "all") means every profile. An unknown code raises ValueError naming it.
    """
    if value is None:
        return None
    codes = list(dict.fromkeys(c.strip() for c in (value.split(",") if isinstance(value, str) else value)))
    codes = [c for c in codes if c]
    if codes == ["all"]:
        return None
    unknown = sorted(set(codes) - set(known_languages()))
    if unknown:
        raise ValueError(f"no language profile for {', '.join(unknown)} (known: {', '.join(known_languages())})")
    if len(codes) < 2:  # langdetect needs two profiles to choose between
        raise ValueError(f"give at least two language codes, or all (got {','.join(codes) or 'nothing'})")
    return tuple(codes)


def detect_languages_setting(settings: Any) -> tuple[str, ...] | None:
    """SAHEL_DETECT_LANGUAGES of Scrapy `settings`, checked; ValueError names the setting."""
    try:
        return candidate_languages(settings.getlist("SAHEL_DETECT_LANGUAGES"))
    except ValueError as exc:
        raise ValueError(f"SAHEL_DETECT_LANGUAGES: {exc}") from None


@cache
def _factory(languages: tuple[str, ...] | None) -> DetectorFactory:
    factory = DetectorFactory()
    if languages is None:
        factory.load_profile(PROFILES_DIRECTORY)
    else:
        profiles = []
        for code in languages:
            with open(os.path.join(PROFILES_DIRECTORY, code), encoding="utf-8") as profile:
                profiles.append(profile.read())
        factory.load_json_profile(profiles)
    factory.set_seed(0)  # langdetect samples randomly: the same text always gets the same answer
    return factory


def detect_language(
    text: str,
    prefix_chars: int,
    trials: int = DEFAULT_TRIALS,
    languages: tuple[str, ...] | None = DEFAULT_LANGUAGES,
) -> tuple[str, float] | None:
    """The most probable of `languages` (None: any langdetect knows) for `text`, with its
    probability; None when undecidable."""
    sample = text[:prefix_chars]
    if not sample.strip():
        return None
    detector = _factory(languages).create()
    detector.n_trial = trials
    detector.append(sample)
    try:
        best = detector.get_probabilities()[0]
    except LangDetectException:
        return None
    return best.lang, round(best.prob, 4)
