"""Language detection: the crawl's candidate set gives langdetect's answers on real news texts,
bad settings are refused by name, and the worker side stays free of the crawler's imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.language import corpus_texts
from pipelines.language import DEFAULT_LANGUAGES, candidate_languages, detect_language
from sahel_crawler.settings import SAHEL_LANGUAGE_PREFIX_CHARS as PREFIX
from tests.conftest import REPO, run_sahel


def test_default_candidates_agree_with_every_profile_on_real_news() -> None:
    texts = corpus_texts(per_language=60)
    if not texts:
        pytest.skip("no ../shared/corpus on this machine: real texts are needed")
    assert {lang for lang, _ in texts} == {"ar", "fr", "en"}
    restricted = [(detect_language(t, PREFIX) or ("?",))[0] for _, t in texts]
    everything = [(detect_language(t, PREFIX, languages=None) or ("?",))[0] for _, t in texts]
    comparable = [(r, e) for r, e in zip(restricted, everything, strict=True) if e in DEFAULT_LANGUAGES]
    assert sum(r == e for r, e in comparable) >= 0.98 * len(comparable)

    # the English benchmark holds a few pages in other languages; the other two collections are pure
    for lang in ("ar", "fr"):
        found = [r for r, (expected, _) in zip(restricted, texts, strict=True) if expected == lang]
        assert found.count(lang) >= 0.99 * len(found), lang


def test_detection_only_answers_with_a_candidate() -> None:
    spanish = "El ejército de Malí anunció el lunes que había recuperado el control de la ciudad de Kidal."
    assert (detect_language(spanish, PREFIX) or ("?",))[0] == "es"
    assert (detect_language(spanish, PREFIX, languages=("ar", "fr", "en")) or ("?",))[0] in {"fr", "en"}


def test_candidate_setting_values() -> None:
    assert candidate_languages("ar, fr,en,fr") == ("ar", "fr", "en")
    assert candidate_languages(["all"]) is None and candidate_languages(None) is None
    assert set(DEFAULT_LANGUAGES) >= {"ar", "fr", "en"}
    with pytest.raises(ValueError, match="xx"):
        candidate_languages("ar,xx")
    for too_few in ("fr", "", "fr,fr"):  # langdetect cannot choose from one profile
        with pytest.raises(ValueError, match="at least two"):
            candidate_languages(too_few)


def test_unknown_language_setting_stops_the_crawl_naming_it(tmp_path) -> None:
    result = run_sahel("crawl", "--db", f"sqlite:///{tmp_path}/x.db", "-s", "SAHEL_DETECT_LANGUAGES=ar,klingon")
    assert result.returncode == 2
    assert "SAHEL_DETECT_LANGUAGES" in result.stderr and "klingon" in result.stderr
    assert "Traceback" not in result.stderr


def test_worker_side_imports_neither_scrapy_twisted_nor_the_database_layer() -> None:
    code = (
        "import sys, pipelines.page_task as t\n"
        "t.init_worker(t.PageSettings(rules={}, min_text_chars=10, max_chars=10**6, language_prefix_chars=400))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scrapy', 'twisted', 'sqlalchemy', 'numpy'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
