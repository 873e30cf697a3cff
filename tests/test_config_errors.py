"""Bad configuration and command-line input beyond tests/test_cli_errors.py (sources registry,
unknown outlet, database URLs, --since): the lexicon and schedule files, digest concepts and
export dates. Each exits 2 with one line naming what is wrong and where (for a bad option value,
the last line of click's usage error)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_sahel


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got: {stderr!r}"
    assert "Traceback" not in stderr
    return lines[0]


LEXICON_CASES = {
    "malformed-yaml": ("format: 1\nconcepts: [\n", "YAML"),
    "unknown-key": ("format: 1\nconcepts:\n  - id: mali\n    category: place\n    colour: red\n"
                    "    forms: {fr: [Mali]}\n", "colour"),
    "no-concepts": ("format: 1\n", "concepts"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(LEXICON_CASES))
def test_bad_lexicon_file_exits_2_naming_file_and_problem(tmp_path: Path, case: str) -> None:
    content, expected = LEXICON_CASES[case]
    path = tmp_path / "lexicon.yaml"
    path.write_text(content)
    result = run_sahel("reflag", "--lexicon", str(path), "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert str(path) in line and expected in line


SCHEDULE_CASES = {
    "malformed-yaml": ("jobs: {crawl: [\n", "YAML"),
    "unknown-key": ("jobs:\n  crawl-all:\n    kind: crawl\n    every: 30m\n    colour: red\n", "colour"),
    "bad-interval": ("jobs:\n  crawl-all:\n    kind: crawl\n    every: soon\n", "soon"),
    "bad-cron": ("jobs:\n  crawl-all:\n    kind: crawl\n    cron: '61 * * * *'\n", "crawl-all"),
}


@pytest.mark.parametrize("case", sorted(SCHEDULE_CASES))
def test_bad_schedule_file_exits_2_naming_file_and_problem(tmp_path: Path, case: str) -> None:
    content, expected = SCHEDULE_CASES[case]
    path = tmp_path / "schedule.yaml"
    path.write_text(content)
    result = run_sahel("schedule", "list", "--schedule", str(path), "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert str(path) in line and expected in line


def test_digest_of_an_unknown_concept_exits_2_naming_it(tmp_path: Path) -> None:
    result = run_sahel("digest", "--concept", "nosuch", "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert "nosuch" in _one_line(result.stderr)


@pytest.mark.parametrize("option", ["--until", "--since"])
def test_export_with_an_impossible_month_exits_2_naming_the_option(tmp_path: Path, option: str) -> None:
    result = run_sahel("export", "--db", f"sqlite:///{tmp_path}/x.db", option, "2026-13-01")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    # A bad option value is click's usage error: the usage line, then one line with the reason.
    line = result.stderr.strip().splitlines()[-1]
    assert line == f"Error: Invalid value for '{option}': '2026-13-01' is not a date (YYYY-MM-DD) or ISO 8601 time"


def test_unknown_database_driver_exits_2(tmp_path: Path) -> None:
    result = run_sahel("crawl", "--db", "nosuchdb://host/x")
    assert result.returncode == 2
    assert "database URL" in _one_line(result.stderr)
