"""Bad configuration and command-line input beyond tests/test_cli_errors.py (sources registry,
unknown outlet, database URLs, --since): the lexicon and schedule files, digest concepts, export
and search filters and dates, search queries. Each exits 2 with one line naming what is wrong and
where (for a bad option value, the last line of click's usage error)."""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

import pytest

from tests.conftest import empty_database, run_sahel, start_sahel
from tests.test_postgres_storage import fill


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
    "huge-interval": ("jobs:\n  crawl-all:\n    kind: crawl\n    every: 99999999999999d\n", "crawl-all"),
    "never-fires": ("jobs:\n  crawl-all:\n    kind: crawl\n    cron: '0 6 31 2 *'\n", "crawl-all"),
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
    result = run_sahel("digest", "--concept", "nosuch", "--db", empty_database(tmp_path))
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


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database of the sample corpus (outlets bbc, france24, meo; ar, fr, en)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('filters') / 'sahel.db'}"
    fill(url)
    return url


@pytest.mark.parametrize("command", [("export",), ("search", "mali")])
def test_an_unknown_outlet_filter_exits_2_naming_the_known_ones(sample_db: str, command: tuple[str, ...]) -> None:
    # It used to give an empty result, as if the outlet had published nothing.
    result = run_sahel(*command, "--db", sample_db, "--outlet", "meo", "--outlet", "nope")
    assert result.returncode == 2
    assert _one_line(result.stderr) == "sahel: error: unknown outlet nope; known: bbc, france24, meo"


@pytest.mark.parametrize("command", [("export",), ("search", "mali")])
def test_an_unknown_concept_filter_exits_2_as_in_the_digest(sample_db: str, command: tuple[str, ...]) -> None:
    result = run_sahel(*command, "--db", sample_db, "--concept", "nosuch")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "--concept nosuch: unknown concept" in line and "known: " in line and "jnim" in line


@pytest.mark.parametrize(
    ("command", "filters"),
    [
        (("export",), ("--concept", "MALI")),
        (("export",), ("--lang", "AR")),
        (("search", "mali", "--format", "jsonl"), ("--concept", "Mali")),
        (("search", "mali", "--format", "jsonl"), ("--lang", "FR")),
    ],
)
def test_concept_ids_and_language_codes_are_taken_in_any_case(
    sample_db: str, command: tuple[str, ...], filters: tuple[str, str]
) -> None:
    # Ids and codes are stored in lower case: JNIM or AR used to match nothing.
    upper = run_sahel(*command, "--db", sample_db, *filters)
    lower = run_sahel(*command, "--db", sample_db, filters[0], filters[1].lower())
    assert upper.returncode == lower.returncode == 0
    assert upper.stdout == lower.stdout and upper.stdout.strip()


@pytest.mark.parametrize("command", [("export",), ("search", "mali"), ("digest",)])
def test_a_reversed_period_exits_2_with_one_line(sample_db: str, command: tuple[str, ...]) -> None:
    result = run_sahel(*command, "--db", sample_db, "--since", "2026-11-23", "--until", "2026-11-22")
    assert result.returncode == 2
    assert "must be after --since" in _one_line(result.stderr)


@pytest.mark.parametrize(
    ("query", "problem"),
    [("Mali -Niger", "at character 6 ('-Niger'): use NOT Niger"), ("Nig*", "at character 1 ('Nig*'): wildcards"),
     ('"Nig*"', "at character 1 ('\"Nig*\"'): wildcards"), ("Mali OR", "at the end: the query ends")],
)  # fmt: skip
def test_search_syntax_the_query_language_lacks_is_refused_with_its_position(
    tmp_path: Path, query: str, problem: str
) -> None:
    result = run_sahel("search", query, "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert line.startswith(f"sahel: error: malformed query {problem}"), line


@pytest.mark.parametrize("query", ["Mali OR Niger", "NOT mali", "mali AND niger"])
def test_search_operators_of_the_query_language_run(tmp_path: Path, query: str) -> None:
    result = run_sahel("search", query, "--db", empty_database(tmp_path))
    assert result.returncode == 0 and result.stderr.strip() == "no matching articles"


@pytest.mark.parametrize("query", ["", "-", "  ", "..."])
def test_a_search_without_words_exits_2(tmp_path: Path, query: str) -> None:
    result = run_sahel("search", query, "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert "no word to search for" in _one_line(result.stderr)


def test_lower_case_or_and_quoted_operators_are_words_and_the_help_says_so(sample_db: str) -> None:
    # "or" is a French word, "Mali OR Niger" in quotes a phrase: neither is refused.
    for query in ("mali or niger", '"Mali OR Niger"', "Al-Qaida"):
        assert run_sahel("search", query, "--db", sample_db).returncode == 0
    help_text = " ".join(run_sahel("search", "--help").stdout.split())
    assert "OR, NOT, parentheses, NEAR/N(a, b)" in help_text and "refused with its position" in help_text


@pytest.mark.parametrize("option", ["--since", "--until", "--date"])
def test_digest_with_a_bad_date_is_a_usage_error_like_export(tmp_path: Path, option: str) -> None:
    args = ("--since", "2026-11-01", "--until", "garbage") if option == "--until" else (option, "garbage")
    result = run_sahel("digest", "--db", f"sqlite:///{tmp_path}/x.db", *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"Error: Invalid value for '{option}': 'garbage' is not a date (YYYY-MM-DD)")


@pytest.mark.parametrize("command", [("lexicon", "test", "x", "--lexicon"), ("lexicon", "check")])
def test_a_missing_lexicon_exits_2_with_the_sahel_error_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    path = tmp_path / "nonexistent.yaml"
    result = run_sahel(*command, str(path))
    assert result.returncode == 2
    assert _one_line(result.stderr) == f"sahel: error: {path}: lexicon not found"


# -- YAML bombs: every configuration file loads in bounded time and memory -----------------------

MEMORY_LIMIT = 1024**3  # address space of the child: a bomb expanded would need gigabytes


def _alias_bomb(levels: int = 9) -> str:
    """Anchors of anchors, as one flow list: a few hundred bytes that stand for 9**9 strings."""
    items = [f"&a0 [{', '.join(['lol'] * 9)}]"]
    items += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return f"[{', '.join(items)}]"


def _merge_bomb(levels: int = 26) -> str:
    """Merge keys of merge keys: each level merges the one below twice (PyYAML copies each)."""
    items = ["&m0 {k0: 1, k1: 2}"]
    items += [f"&m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i + 1}: {i}}}" for i in range(1, levels)]
    return f"[{', '.join(items)}]"


DEEP = "[" * 500 + "]" * 500


def _files(bomb: str) -> dict[str, str]:
    """The bomb in each file where its loader once showed the value it found (its repr)."""
    return {
        "lexicon": f"concepts:\n  - id: {bomb}\n",
        "sources": f"outlets:\n  bomb: {{name: Bomb, sections: ['http://a.test/'], hosts: {bomb}}}\n",
        "schedule": f"jobs:\n  bomb: {{kind: {bomb}, every: 30m}}\n",
    }


BOMBS = {"aliases": _files(_alias_bomb()), "merge-keys": _files(_merge_bomb()), "nesting": _files(DEEP)}


def _command(kind: str, path: Path, tmp_path: Path) -> tuple[str, ...]:
    db = f"sqlite:///{tmp_path}/x.db"
    return {
        "lexicon": ("lexicon", "check", str(path)),
        "sources": ("crawl", "--sources", str(path), "--db", db),
        "schedule": ("schedule", "list", "--schedule", str(path), "--db", db),
    }[kind]


def _run_with_memory_limit(*args: str) -> tuple[int, str]:
    """Exit status and standard error of `sahel ARGS` in a child held to MEMORY_LIMIT."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    proc = start_sahel(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"sahel {' '.join(args)} still running after 60 s") from None
    return proc.returncode, stderr


@pytest.mark.parametrize("kind", ["lexicon", "sources", "schedule"])
@pytest.mark.parametrize("bomb", ["aliases", "merge-keys", "nesting"])
def test_a_yaml_bomb_in_a_configuration_file_exits_2_with_one_short_line(tmp_path: Path, bomb: str, kind: str) -> None:
    path = tmp_path / f"{kind}.yaml"
    path.write_text(BOMBS[bomb][kind])

    returncode, stderr = _run_with_memory_limit(*_command(kind, path, tmp_path))

    assert returncode == 2, stderr[-2000:]
    line = _one_line(stderr)
    assert str(path) in line and "refused" in line
    assert len(line) < 300


def test_the_bundled_files_still_load_with_their_anchors(tmp_path: Path) -> None:
    returncode, stderr = _run_with_memory_limit("lexicon", "check")
    assert returncode == 0, stderr
