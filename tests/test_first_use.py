"""A newcomer's first hour: the demo, then the README's commands against its database, then
the usual mistakes; each prints what to do next or one line, never a traceback."""

from __future__ import annotations

import json
import os
import pty
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from sahel_crawler.cli import main
from sahel_crawler.commands.demo import next_steps
from sahel_crawler.query import parse_query
from sahel_crawler.query.parser import QueryError
from sahel_crawler.replay import ReplayServer
from tests.conftest import REPO, crawl_replay, replay_settings_args, run_sahel

READ_COMMANDS = [
    ("runs",),
    ("health",),
    ("export",),
    ("search", "mali"),
    ("digest",),
    ("db", "current"),
]


def _one_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`sahel demo` run once: (its database file, its standard output)."""
    db = tmp_path_factory.mktemp("demo") / "fresh" / "demo.db"
    result = run_sahel("demo", "--db-path", str(db))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return db, result.stdout


# -- a database that does not exist -------------------------------------------------------------


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_a_read_command_on_a_missing_database_exits_1_and_creates_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    db = tmp_path / "no" / "such" / "sahel.db"
    result = CliRunner().invoke(main, [*command, "--db", f"sqlite:///{db}"])
    assert result.exit_code == 1
    line = _one_line(result.output)
    assert line.startswith(f"sahel: error: no database at {db}") and "sahel crawl" in line and "sahel demo" in line
    assert not (tmp_path / "no").exists()


def test_the_demo_ends_saying_how_to_reach_its_database(demo: tuple[Path, str]) -> None:
    db, stdout = demo
    closing = stdout.strip().splitlines()[-8:]
    assert closing[0] == f"database: {db}"
    assert any(f"sahel runs --db sqlite:///{db}" in line for line in closing)
    # the demo's own folders are made for it
    assert db.exists()


def test_the_readme_quick_start_says_how_to_reach_the_demo_database() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = readme[readme.index("## Quick start") : readme.index("## Crawling the real outlets")]
    assert "--db sqlite:///data/demo.db" in quick_start
    assert ". .venv/bin/activate" in quick_start and ".venv/bin/sahel" in quick_start


def test_every_readme_command_runs_on_the_demo_database(demo: tuple[Path, str]) -> None:
    db, _ = demo
    url = f"sqlite:///{db}"
    for command in [
        *READ_COMMANDS,
        ("search", "Mali", "--format", "jsonl"),
        ("health", "--json"),
        ("runs", "--last", "1"),
    ]:
        result = CliRunner().invoke(main, [*command, "--db", url])
        assert result.exit_code == 0, (command, result.output)
        assert "Traceback" not in result.output


# -- words that mislead -------------------------------------------------------------------------


def test_the_demo_summary_says_finished_once_and_names_its_outlets(demo: tuple[Path, str]) -> None:
    _, stdout = demo
    first = stdout.splitlines()[0]
    assert first.startswith("crawl run 1 of france24, meo: finished in ")
    assert "(finished)" not in stdout


def test_the_health_table_explains_its_median_chars_column(demo: tuple[Path, str]) -> None:
    db, _ = demo
    result = CliRunner().invoke(main, ["health", "--db", f"sqlite:///{db}"])
    assert result.exit_code == 0
    header, *rest = result.output.splitlines()
    assert "median chars (newest/before)" in header
    assert rest[-1].startswith("median chars: median text length of the outlet's 5 newest articles / of the 30")


@pytest.mark.parametrize("command", [("export",), ("digest",)])
def test_out_help_says_whether_the_folder_is_made(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert "its folder must exist" in " ".join(result.output.split())


def test_demo_help_says_its_folders_are_made() -> None:
    result = CliRunner().invoke(main, ["demo", "--help"])
    assert "missing folders are created" in " ".join(result.output.split())


def test_the_readme_says_make_test_may_install_chromium_and_how_services_are_found() -> None:
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert "apt-get install -y --no-install-recommends chromium" in readme
    assert "SAHEL_TEST_POSTGRES_URL" in readme and "SAHEL_TEST_REDIS_URL" in readme


# -- filters that say nothing -------------------------------------------------------------------


@pytest.mark.parametrize("command", [("export",), ("search", "mali")], ids=" ".join)
def test_an_unknown_language_exits_2_naming_the_known_ones(demo: tuple[Path, str], command: tuple[str, ...]) -> None:
    db, _ = demo
    result = CliRunner().invoke(main, [*command, "--db", f"sqlite:///{db}", "--lang", "xx"])
    assert result.exit_code == 2
    assert _one_line(result.output) == "sahel: error: unknown language xx; known: ar, en, fr"


def test_a_known_language_in_capitals_is_taken(demo: tuple[Path, str]) -> None:
    db, _ = demo
    result = CliRunner().invoke(main, ["export", "--db", f"sqlite:///{db}", "--lang", "AR"])
    assert result.exit_code == 0
    assert {json.loads(line)["language"] for line in result.output.splitlines()} == {"ar"}


def test_an_export_into_a_closed_pipe_ends_quietly_with_status_0(demo: tuple[Path, str]) -> None:
    db, _ = demo
    proc = subprocess.Popen(
        [sys.executable, "-m", "sahel_crawler", "export", "--db", f"sqlite:///{db}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # the reader takes one line and goes, as `| head -1` does
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, stderr
    assert stderr == ""


# -- one line instead of a traceback ------------------------------------------------------------


def test_a_demo_database_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    result = run_sahel("demo", "--db-path", "/proc/demo.db")
    assert result.returncode == 1
    assert _one_line(result.stderr).startswith("sahel: error: cannot use database sqlite:////proc/demo.db: ")


@pytest.mark.parametrize("command", [("runs",), ("crawl",), ("db", "upgrade")], ids=" ".join)
def test_a_bad_port_in_the_database_url_is_one_line(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*command, "--db", "postgresql+psycopg://sahel:secret@db:54x2/sahel"])
    assert result.exit_code == 2
    line = _one_line(result.output)
    assert line == (
        "sahel: error: malformed database URL 'postgresql+psycopg://sahel:***@db:54x2/sahel': the port is not a number"
    )


def test_scrapy_crawl_of_an_unknown_outlet_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "news",
            "-a",
            "outlets=nope",
            "-s",
            f"SAHEL_DB_URL=sqlite:///{tmp_path}/x.db",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("scrapy: error: ") and "unknown outlet nope; known: " in last


# -- the run record names the outlets crawled ----------------------------------------------------


def _run_outlets(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT outlets FROM crawl_runs ORDER BY id")]


def _health_runs(db: Path) -> dict[str, int]:
    result = CliRunner().invoke(main, ["health", "--db", f"sqlite:///{db}", "--json"])
    assert result.exit_code == 0, result.output
    return {r["outlet"]: r["runs_24h"] for r in map(json.loads, result.output.splitlines())}


def test_sahel_crawl_of_one_outlet_records_only_that_outlet(replay_sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "sahel.db"
    result = crawl_replay(replay_sources, f"sqlite:///{db}", "--outlet", "meo")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _run_outlets(db) == ["meo"]


def test_scrapy_crawl_of_one_outlet_records_only_that_outlet(
    replay: ReplayServer, replay_sources: Path, tmp_path: Path
) -> None:
    db = tmp_path / "sahel.db"
    # a run of both first, so that health knows france24 and can credit it wrongly
    assert crawl_replay(replay_sources, f"sqlite:///{db}").returncode == 0
    proc = subprocess.run(
        [
            sys.executable, "-m", "scrapy", "crawl", "news", "-a", "outlets=meo",
            "-s", f"SAHEL_DB_URL=sqlite:///{db}", "-s", f"SAHEL_SOURCES_PATH={replay_sources}",
            *replay_settings_args(),
        ],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _run_outlets(db) == ["france24,meo", "meo"]
    assert _health_runs(db) == {"france24": 1, "meo": 2}


# -- a quiet terminal ---------------------------------------------------------------------------


def _on_a_terminal(*args: str) -> tuple[int, str]:
    """Run `sahel ARGS` with a pseudo-terminal as its standard streams; (status, what it wrote,
    without terminal control sequences)."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sahel_crawler", *args],
        stdin=secondary, stdout=secondary, stderr=secondary, cwd=REPO, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    os.close(secondary)
    screen = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        screen += chunk
    os.close(primary)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode("utf-8", "replace"))  # cursor moves, colours
    return proc.wait(timeout=120), text


def test_a_crawl_on_a_terminal_shows_its_plan_progress_and_summary_only(replay_sources: Path, tmp_path: Path) -> None:
    status, screen = _on_a_terminal(
        "crawl", "--sources", str(replay_sources), "--db", f"sqlite:///{tmp_path}/t.db", "--outlet", "meo",
        *replay_settings_args(),
    )  # fmt: skip
    assert status == 0, screen
    lines = [line.strip() for line in screen.replace("\r", "\n").splitlines() if line.strip()]
    assert lines[0] == "crawling 1 outlet: meo (3 start URLs)"
    assert any(re.fullmatch(r"pages \d+, new \d+, .*, errors \d+, [\d.]+ pages/s", line) for line in lines), screen
    assert "crawl run 1 of meo: finished in " in screen
    for noise in ("Scrapy 2", "Overridden settings", "Enabled extensions", "Remote control", "alembic", "Context impl"):
        assert noise not in screen, noise


def test_verbose_brings_back_the_full_log_on_a_terminal(replay_sources: Path, tmp_path: Path) -> None:
    status, screen = _on_a_terminal(
        "crawl", "--sources", str(replay_sources), "--db", f"sqlite:///{tmp_path}/t.db", "--outlet", "meo", "-v",
        *replay_settings_args(),
    )  # fmt: skip
    assert status == 0, screen
    assert "INFO scrapy.core.engine: Spider opened" in screen
    assert "INFO pipelines.store: crawl run 1 started for meo" in screen


def test_a_crawl_off_a_terminal_logs_plain_lines_without_alembic(replay_sources: Path, tmp_path: Path) -> None:
    result = crawl_replay(replay_sources, f"sqlite:///{tmp_path}/p.db", "--outlet", "meo")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "[scrapy.core.engine] INFO: Spider opened" in result.stderr
    assert "[sahel_crawler.progress] INFO: crawling 1 outlet: meo (3 start URLs)" in result.stderr
    assert "alembic" not in result.stderr
    assert "\r" not in result.stderr and "\x1b[" not in result.stderr


def test_warnings_and_errors_on_a_terminal_never_land_on_the_progress_line(
    replay_sources: Path, tmp_path: Path
) -> None:
    sources = tmp_path / "sources.yaml"
    broken = "  broken:\n    name: Broken\n    feeds: [http://127.0.0.1:9/rss]\n"  # nothing listens there
    sources.write_text(replay_sources.read_text(encoding="utf-8") + broken, encoding="utf-8")
    status, screen = _on_a_terminal(
        "crawl", "--sources", str(sources), "--db", f"sqlite:///{tmp_path}/t.db", "--outlet", "meo",
        "--outlet", "broken", *replay_settings_args(), "-s", "SAHEL_PROGRESS_INTERVAL=0.05",
    )  # fmt: skip
    assert status == 0, screen
    segments = [s.strip() for s in re.split(r"[\r\n]", screen) if s.strip()]
    problems = [s for s in segments if s.startswith(("ERROR ", "WARNING "))]
    assert problems and all("127.0.0.1:9" in s for s in problems), screen
    progress = [s for s in segments if "pages/s" in s]
    assert progress and all(s.startswith("pages ") and s.endswith("pages/s") for s in progress), screen
    assert "Traceback" not in screen


def test_schedule_list_before_any_crawl_shows_the_jobs_and_creates_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["schedule", "list", "--db", f"sqlite:///{tmp_path}/data/sahel.db"])
    assert result.exit_code == 0, result.output
    jobs = [line.split()[0] for line in result.output.splitlines()[2:]]
    assert jobs == ["crawl-all", "digest-daily"]
    assert not (tmp_path / "data").exists()


# -- search syntax a later query language will define -----------------------------------------

WORDS = st.text(alphabet=st.sampled_from("abcdeéèàçmalinigerأزوادمالي'-"), min_size=1, max_size=8).filter(
    lambda w: not w.startswith("-") and any(c.isalpha() for c in w)
)


@given(st.lists(WORDS, min_size=1, max_size=6))
def test_plain_words_are_never_refused(words: list[str]) -> None:
    parse_query(" ".join(words))  # raises QueryError if refused


@given(
    st.lists(WORDS, max_size=3),
    st.sampled_from(["NEAR(mali niger)", "title:mali", "title: mali", "{title text}: mali", "{col}:mali"]),
    st.lists(WORDS, max_size=3),
)
def test_near_and_column_filters_are_refused_wherever_they_stand(
    before: list[str], syntax: str, after: list[str]
) -> None:
    with pytest.raises(QueryError):
        parse_query(" ".join([*before, syntax, *after]))


def test_after_make_demo_the_closing_lines_name_the_projects_virtual_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make demo` runs .venv/bin/sahel from the repository's root
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "sahel").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / ".venv"))
    lines = next_steps("data/demo.db")
    assert lines[:2] == [
        "database: data/demo.db",
        "explore it after `. .venv/bin/activate` (or run .venv/bin/sahel instead of sahel):",
    ]
    assert "  sahel runs --db sqlite:///data/demo.db" in lines
