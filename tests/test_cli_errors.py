"""Exit statuses and one-line messages of the CLI for bad input (no crawl needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import empty_database, run_sahel


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert lines, "expected a reason on stderr"
    assert "Traceback" not in stderr
    return lines[-1]


def test_missing_sources_file_exits_2(tmp_path: Path) -> None:
    result = run_sahel("crawl", "--sources", str(tmp_path / "nope.yaml"), "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert "nope.yaml" in _one_line_error(result.stderr)
    assert "not found" in result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("outlets: [", "malformed YAML"),
        ("outlets:\n  a:\n    name: A\n    feeds: [http://x.test/rss]\n    colour: red\n", "'colour'"),
        ("outlets:\n  a:\n    name: A\n    feeds: [http://x.test/rss]\n    allow: ['(']\n", "bad regular expression"),
        ("outlets:\n  a:\n    name: A\n", "at least one of"),
        ("outlets:\n  a:\n    name: A\n    feeds: [ftp://x.test/rss]\n", "not an http(s) URL"),
        (
            "outlets:\n  a:\n    name: A\n    feeds: [http://x.test/rss]\n    verify_tls: sometimes\n",
            "'verify_tls' must be true or false",
        ),
        # urlsplit accepts these, Scrapy could not request them: refused before any fetch
        ("outlets:\n  a:\n    name: A\n    feeds: ['http://x.test:99999/rss']\n", "not a usable URL"),
        ("outlets:\n  a:\n    name: A\n    feeds: ['http://[::1/rss']\n", "not a usable URL"),
        # PyYAML keeps the last of repeated keys: the first list (or outlet) would vanish unseen
        (
            "outlets:\n  a:\n    name: A\n    feeds: [http://x.test/rss]\n    feeds: [http://x.test/b]\n",
            "'feeds' given twice",
        ),
        ("outlets:\n  a:\n    name: A\n    feeds: [http://x.test/rss]\n  a:\n    name: B\n", "'a' given twice"),
    ],
)
def test_invalid_sources_exit_2_naming_outlet_and_key(tmp_path: Path, content: str, expected: str) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(content)
    result = run_sahel("crawl", "--sources", str(sources), "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    line = _one_line_error(result.stderr)
    assert str(sources) in line and expected in line


def test_unknown_outlet_exits_2(tmp_path: Path) -> None:
    result = run_sahel("crawl", "--outlet", "nosuch", "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert "unknown outlet nosuch" in _one_line_error(result.stderr)


def test_unreachable_database_exits_1(tmp_path: Path) -> None:
    result = run_sahel("crawl", "--db", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert result.returncode == 1
    assert "cannot use database" in _one_line_error(result.stderr)


def test_malformed_database_url_exits_2() -> None:
    result = run_sahel("export", "--db", "not a url")
    assert result.returncode == 2
    assert "database URL" in _one_line_error(result.stderr)


def test_impossible_date_exits_2(tmp_path: Path) -> None:
    result = run_sahel("export", "--db", f"sqlite:///{tmp_path}/x.db", "--since", "2026-02-30")
    assert result.returncode == 2
    assert "2026-02-30" in result.stderr


def test_python_m_equals_the_console_script() -> None:
    result = run_sahel("--help")
    assert result.returncode == 0
    for command in ("crawl", "export", "demo", "runs"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("SAHEL_EXTRACT_WORKERS=abc", "SAHEL_EXTRACT_WORKERS: 'abc' is not an integer"),
        ("SAHEL_STORE_BATCH_SIZE=many", "SAHEL_STORE_BATCH_SIZE: 'many' is not an integer"),
        ("SAHEL_DEDUP_THRESHOLD=2", "SAHEL_DEDUP_THRESHOLD: 2.0 is not in (0, 1]"),
        ("SAHEL_DEDUP_ENABLED=maybe", "SAHEL_DEDUP_ENABLED: 'maybe' is not true or false"),
        (
            "SAHEL_ALLOWED_PRIVATE_HOSTS=127.0.0.1:99999",
            "SAHEL_ALLOWED_PRIVATE_HOSTS: '127.0.0.1:99999' is not a host or host:port",
        ),
    ],
)
def test_a_mistyped_crawl_setting_exits_2_naming_it(tmp_path: Path, setting: str, expected: str) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("outlets:\n  a:\n    name: A\n    feeds: [http://127.0.0.1:9/rss]\n")
    result = run_sahel("crawl", "--sources", str(sources), "--db", f"sqlite:///{tmp_path}/x.db", "-s", setting)
    assert result.returncode == 2
    assert _one_line_error(result.stderr) == f"sahel: error: {expected}"


def test_a_crawl_scrapy_cannot_start_exits_1(tmp_path: Path) -> None:
    # One of Scrapy's own settings it cannot use: Scrapy fails while starting; the exit status
    # and the last line must say so (it used to exit 0 after Scrapy's traceback).
    sources = tmp_path / "sources.yaml"
    sources.write_text("outlets:\n  a:\n    name: A\n    feeds: [http://127.0.0.1:9/rss]\n")
    result = run_sahel(
        "crawl", "--sources", str(sources), "--db", f"sqlite:///{tmp_path}/x.db", "-s", "DOWNLOAD_TIMEOUT=abc"
    )
    assert result.returncode == 1
    # (Twisted may print the unhandled error at exit, after this line)
    assert "sahel: error: the crawl could not start (see the error in the log)" in result.stderr.splitlines()


@pytest.mark.parametrize(
    "command",
    [
        ("export",),
        ("export", "--format", "csv"),
        ("export", "--format", "parquet"),
        ("digest", "--date", "2026-11-23"),
    ],
    ids=["jsonl", "csv", "parquet", "digest"],
)
def test_an_output_file_that_cannot_be_written_exits_2_naming_it(tmp_path: Path, command: tuple[str, ...]) -> None:
    out = tmp_path / "missing-folder" / "out.txt"
    result = run_sahel(*command, "--db", empty_database(tmp_path), "--out", str(out))
    assert result.returncode == 2
    assert _one_line_error(result.stderr) == f"sahel: error: cannot write {out}: No such file or directory"


def test_a_sqlite_file_whose_folder_cannot_be_made_exits_1(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    result = run_sahel("db", "upgrade", "--db", f"sqlite:///{tmp_path}/a-file/x.db")
    assert result.returncode == 1
    line = _one_line_error(result.stderr)
    assert line.startswith("sahel: error: cannot use database") and f"cannot create folder {tmp_path}/a-file" in line


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("export", "--until", "9999-12-31"), "--until"),
        (("search", "mali", "--until", "9999-12-31"), "--until"),
        (("search", "mali", "--since", "0001-01-01T00:00+05:00"), "--since"),
        (("digest", "--date", "9999-12-31"), "--date"),
        (("digest", "--date", "0001-01-01"), "--date"),
        (("digest", "--since", "0001-01-02"), "--since"),
        (("digest", "--since", "9999-12-30", "--until", "9999-12-31"), "--since"),
        (("health", "--silent-after", "1e12"), "--silent-after"),
        (("health", "--silent-after", "inf"), "--silent-after"),
        (("health", "--silent-after", "nan"), "--silent-after"),
        (("health", "--shrink-ratio", "nan"), "--shrink-ratio"),
    ],
)
def test_an_out_of_range_value_is_a_usage_error(tmp_path: Path, args: tuple[str, ...], option: str) -> None:
    # They used to end in OverflowError (dates past year 9999 or before year 1, a timedelta of
    # 1e12 hours) or ValueError (nan hours) tracebacks.
    result = run_sahel(*args, "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert _one_line_error(result.stderr).startswith(f"Error: Invalid value for '{option}'")
