"""The sources, lexicon and schedule files are checked by one set of rules: whatever is wrong,
and however large the wrong value, the error is one line naming the file, the entry and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sahel_crawler.lexicon import LexiconError, load_lexicon
from sahel_crawler.sources import RegistryError, load_registry
from schedules.config import ScheduleError, load_schedule

HUGE = "x" * 5000
OUTLET = {"name": "A", "feeds": ["https://a.test/rss"]}
CONCEPT = {"id": "kidal", "category": "place", "labels": {"ar": "كيدال", "fr": "Kidal", "en": "Kidal"},
           "forms": {"fr": ["Kidal"]}}  # fmt: skip
JOB = {"kind": "crawl", "every": "30m"}
# (loader, its error, the document around one entry, the entry as messages name it)
FILES = {
    "sources": (load_registry, RegistryError, lambda entry: {"outlets": {"a": entry}}, OUTLET, "outlet 'a'"),
    "lexicon": (load_lexicon, LexiconError, lambda entry: {"concepts": [entry]}, CONCEPT, "concept 'kidal'"),
    "schedule": (load_schedule, ScheduleError, lambda entry: {"jobs": {"a": entry}}, JOB, "job 'a'"),
}


def _error_of(tmp_path: Path, file: str, entry: dict[str, Any]) -> str:
    load, error, document, _, _ = FILES[file]
    path = tmp_path / f"{file}.yaml"
    path.write_text(yaml.safe_dump(document(entry), allow_unicode=True), encoding="utf-8")
    with pytest.raises(error) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        ("sources", {"feeds": [f"ftp://{HUGE}"]}, "outlet 'a': key 'feeds': 'ftp://xxx"),
        ("sources", {"allow": [f"({HUGE}"]}, "outlet 'a': key 'allow': bad regular expression '(xxx"),
        ("sources", {"name": 3}, "outlet 'a': key 'name' must be a string (got 3)"),
        ("lexicon", {"category": HUGE.upper()}, "concept 'kidal': key 'category': expected a lower-case word"),
        ("lexicon", {"id": HUGE.upper()}, "concept #1: key 'id': expected lower-case letters"),
        ("lexicon", {"forms": {"fr": [{"form": "Kidal", "weak": HUGE}]}}, "concept 'kidal': key 'forms.fr.weak'"),
        ("schedule", {"every": HUGE}, "job 'a': key 'every': expected a duration"),
        ("schedule", {"timezone": HUGE}, "job 'a': key 'timezone': unknown time zone 'xxx"),
    ],
)
def test_a_huge_wrong_value_gives_one_short_line_naming_entry_and_key(
    tmp_path: Path, file: str, change: dict[str, Any], expected: str
) -> None:
    message = _error_of(tmp_path, file, {**FILES[file][3], **change})
    assert expected in message
    assert len(message) < len(str(tmp_path)) + 300


key_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=st.sampled_from(sorted(FILES)), key=key_names)
def test_an_unknown_key_is_named_with_its_entry(tmp_path: Path, file: str, key: str) -> None:
    entry = FILES[file][3]
    if key.strip() in entry or not key.strip():
        return
    message = _error_of(tmp_path, file, {**entry, key: 1})
    assert f"{FILES[file][4]}: unknown key " in message


wrong_values = st.one_of(
    st.integers(), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=st.sampled_from(sorted(FILES)), value=wrong_values, data=st.data())
def test_a_value_of_the_wrong_type_is_named_by_its_key(tmp_path: Path, file: str, value: Any, data: Any) -> None:
    string_keys = {"sources": ["name"], "lexicon": ["category"], "schedule": ["kind", "cron"]}[file]
    key = data.draw(st.sampled_from(string_keys))
    message = _error_of(tmp_path, file, {**FILES[file][3], key: value})
    assert f"{FILES[file][4]}: key {key!r}" in message
