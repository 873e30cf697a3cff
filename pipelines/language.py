"""Language detection: langdetect on a bounded prefix of the body, among the languages the
monitor expects, seeded for reproducible results.

It runs inside the extraction stage's worker processes (pipelines/page_task.py), next to the
extraction it depends on, so it costs the reactor nothing.

Cost and accuracy: langdetect reads every character of its input in Python, then samples
n-grams in independent trials until the probabilities converge. On 1,381 real news texts
(France 24 Arabic, BBC Afrique French, the English extraction benchmark) a 400-character prefix
with 2 trials gives the same language as a 700-character one and as langdetect's defaults (whole
text, 7 trials) on every Arabic, French and English text, in a third of the time of 1,000
characters with 7 trials and a tenth of the whole text (`python -m bench language`). Nearly all
of the cost is reading the characters, so it follows the prefix length; trials cost little.

Candidate languages: langdetect's 55 profiles hold 87,600 n-grams, each with a probability per
language, about 60 MB in every worker process, most of them for scripts no Sahel outlet writes
in. Detection chooses among DEFAULT_LANGUAGES instead: the monitor's three, the other languages
of the region's press and wire copy, the Arabic-script languages an Arabic text could be taken
for, and Japanese and Chinese so that an East Asian page is not labelled with a language of
another script. That is 17,300 n-grams (7 MB) and a fifth less CPU per text, with the same
answer as all 55 profiles on every Arabic, French and English text of the benchmark (it differs
on three of its 1,381 texts: two Korean pages, taken for Chinese, and a Portuguese one that all
profiles took for English). A text in a language outside the set gets the closest one of the
set, or none (then the page's declared language is used); `all` restores every profile.
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
