"""Language detection: cost and agreement of the crawl's setting against langdetect's defaults.

Usage: python -m bench language [--json] [--per-language N]

Reads real news texts from ../shared/corpus (France 24 Arabic, BBC Afrique French, the English
extraction benchmark's ground truth), detects each with langdetect's defaults (whole text up to
10,000 characters, 7 trials, all 55 profiles) and with `pipelines.language.detect_language` at
several prefix lengths, trial counts and candidate sets (all profiles, or the crawl's
DEFAULT_LANGUAGES), and reports CPU ms per text, agreement with the defaults and accuracy against
the language of each collection (the English benchmark holds a few pages in other languages, so
accuracy stays just under 1 whatever the setting).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from bench.common import CORPUS, extraction_ground_truth, news_texts
from pipelines.language import DEFAULT_LANGUAGES, DEFAULT_TRIALS, detect_language
from sahel_crawler.settings import SAHEL_LANGUAGE_PREFIX_CHARS as PREFIX_CHARS

# (prefix characters, trials, candidate languages: None is every profile); the first is the reference
SETTINGS = (
    (10_000, 7, None),
    (1000, 7, None),
    (1000, 3, None),
    (PREFIX_CHARS, DEFAULT_TRIALS, None),
    (PREFIX_CHARS, DEFAULT_TRIALS, DEFAULT_LANGUAGES),
    (700, 2, DEFAULT_LANGUAGES),
    (300, 1, DEFAULT_LANGUAGES),
)


def corpus_texts(per_language: int) -> list[tuple[str, str]]:
    """(expected language, text) pairs from the corpus, at most `per_language` of each; empty when
    it is absent."""
    texts: list[tuple[str, str]] = []
    for lang in ("ar", "fr"):
        texts += [(lg, t) for lg, t in news_texts() if lg == lang and len(t) > 300][:per_language]
    bodies = (v.get("articleBody") or "" for v in extraction_ground_truth().values())
    texts += [("en", t) for t in bodies if len(t) > 300][:per_language]
    return texts


def measure(texts: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """One row per (prefix, trials, candidates) setting."""
    rows, reference = [], None
    for languages in (None, DEFAULT_LANGUAGES):
        detect_language("warm up: load the language profiles", PREFIX_CHARS, languages=languages)
    for prefix, trials, languages in SETTINGS:
        start = time.process_time()
        found = [(detect_language(text, prefix, trials, languages) or ("?", 0.0))[0] for _, text in texts]
        ms = (time.process_time() - start) * 1000 / len(texts)
        reference = reference or found
        agreeing = sum(a == b for a, b in zip(found, reference, strict=True))
        rows.append({
            "prefix_chars": prefix,
            "trials": trials,
            "languages": "all" if languages is None else ",".join(languages),
            "ms_per_text": round(ms, 3),
            "agreement_with_defaults": round(agreeing / len(texts), 4),
            "accuracy": round(sum(f == lang for f, (lang, _) in zip(found, texts, strict=True)) / len(texts), 4),
            "crawl_setting": (prefix, trials, languages) == (PREFIX_CHARS, DEFAULT_TRIALS, DEFAULT_LANGUAGES),
        })  # fmt: skip
    return rows


def main(argv: list[str]) -> dict[str, Any]:
    """Run the benchmark; print a table, or one JSON object with --json."""
    parser = argparse.ArgumentParser(prog="python -m bench language", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--per-language", type=int, default=600, help="texts per language")
    args = parser.parse_args(argv)
    texts = corpus_texts(args.per_language)
    if not texts:
        result: dict[str, Any] = {"texts": 0, "note": f"no corpus at {CORPUS}"}
    else:
        counts = {lang: sum(1 for lg, _ in texts if lg == lang) for lang in ("ar", "fr", "en")}
        result = {"texts": len(texts), "per_language": counts, "settings": measure(texts)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['texts']} texts {result.get('per_language', '')}")
        for row in result.get("settings", []):
            mark = "  <- crawl setting" if row["crawl_setting"] else ""
            print(
                f"prefix {row['prefix_chars']:>6}  trials {row['trials']}  "
                f"{'all profiles' if row['languages'] == 'all' else 'crawl set':>12}  {row['ms_per_text']:6.2f} ms  "
                f"agreement {row['agreement_with_defaults']:.4f}  accuracy {row['accuracy']:.4f}{mark}"
            )
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
