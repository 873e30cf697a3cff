"""Shared fixtures: the offline replay, crawls run as real `sahel` processes, service URLs."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from sahel_crawler import settings as project_settings
from sahel_crawler.demo import REPLAY_OVERRIDES, settings_args
from sahel_crawler.replay import ReplayServer

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
# Fixed "now" for the replay, so that dates in the site and in assertions are deterministic.
REPLAY_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
REQUIRE_SERVICES = os.environ.get("SAHEL_REQUIRE_SERVICES") == "1"


def project_crawler(spidercls: type | None = None, settings_dict: dict[str, Any] | None = None) -> Crawler:
    """A crawler with the project's SAHEL_* defaults and `settings_dict` on top, as a crawl has."""
    defaults = {name: value for name, value in vars(project_settings).items() if name.startswith("SAHEL_")}
    return get_crawler(spidercls, {**defaults, **(settings_dict or {})})


def replay_settings_args() -> list[str]:
    """`-s NAME=VALUE` arguments that point a crawl at the loopback replay."""
    return settings_args(REPLAY_OVERRIDES)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def _sahel_env(env: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **(env or {})}


def run_sahel(*args: str, timeout: float = 120, env: dict[str, str] | None = None, cwd: Path = REPO) -> CliResult:
    """Run `python -m sahel_crawler ARGS` in a fresh process (Scrapy's reactor cannot restart)."""
    proc = subprocess.run(
        [sys.executable, "-m", "sahel_crawler", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=_sahel_env(env),
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def run_bench(module: str, *args: str, timeout: float) -> dict[str, Any]:
    """Run `python -m bench.MODULE ARGS --json` in a fresh process; its last line's JSON object."""
    proc = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args, "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def start_sahel(*args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen[Any]:
    """Start `python -m sahel_crawler ARGS` in the background, as `run_sahel` runs it;
    `popen` goes to subprocess.Popen (stdout, stderr, start_new_session, ...)."""
    return subprocess.Popen([sys.executable, "-m", "sahel_crawler", *args], cwd=REPO, env=_sahel_env(env), **popen)


@pytest.fixture
def short_tmp_path() -> Iterator[Path]:
    """A new folder with a short path, for a crawl's TMPDIR: multiprocessing's fork server puts
    its socket there, and a socket path is limited to 107 bytes (pytest's own folders can be
    longer, under pytest-xdist especially)."""
    folder = Path(tempfile.mkdtemp(prefix="sahel-t-", dir="/tmp"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def replay() -> Iterator[ReplayServer]:
    """The bundled two-outlet replay (france24 on 127.0.0.1, meo on 127.0.0.2)."""
    with ReplayServer(now=REPLAY_NOW) as server:
        yield server


@pytest.fixture(scope="session")
def replay_sources(replay: ReplayServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return replay.write_sources(tmp_path_factory.mktemp("sources") / "sources.yaml")


def crawl_replay(sources: Path, db_url: str, *extra: str, env: dict[str, str] | None = None) -> CliResult:
    """One `sahel crawl` of the replay into `db_url`; `env` is added to the process's environment."""
    return run_sahel("crawl", "--sources", str(sources), "--db", db_url, *replay_settings_args(), *extra, env=env)


def empty_database(folder: Path) -> str:
    """The URL of a new SQLite database with the schema and nothing stored, in `folder`."""
    from storage.db import open_database

    url = f"sqlite:///{folder}/x.db"
    open_database(url).dispose()
    return url


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _service_or_skip(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (SAHEL_REQUIRE_SERVICES=1: this test must run)")
    pytest.skip(f"{message}; start it to run this test")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the PostgreSQL test database (127.0.0.1:5432/test, trust auth)."""
    url = os.environ.get("SAHEL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    _service_or_skip("PostgreSQL", "127.0.0.1", 5432)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the Redis test server (127.0.0.1:6379)."""
    _service_or_skip("Redis", "127.0.0.1", 6379)
    return os.environ.get("SAHEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


# The archive replay's reference time: its bundled articles fall in September and October 2026.
ARCHIVE_NOW = datetime(2026, 10, 2, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def archive_replay() -> Iterator[ReplayServer]:
    """The bundled replay with France 24's monthly archive sitemaps (sahel_crawler.replay.archive)."""
    from sahel_crawler.replay.archive import build_archive_site

    with ReplayServer(now=ARCHIVE_NOW, site_builder=build_archive_site) as server:
        yield server


@pytest.fixture(scope="session")
def archive_sources(archive_replay: ReplayServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return archive_replay.write_sources(tmp_path_factory.mktemp("archive") / "sources.yaml")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups for `pytest -n 2 --dist loadgroup`: a file's tests stay on one worker (its module
    fixtures, often a whole crawl, run once), and every test of the PostgreSQL or Redis servers
    runs on one worker, since some share the `test` database and Redis database 15."""
    services = {"postgres_url", "redis_url"}
    for item in items:
        shared = services & set(getattr(item, "fixturenames", ())) or any(
            item.get_closest_marker(name) for name in ("postgres", "redis")
        )
        item.add_marker(pytest.mark.xdist_group("services" if shared else item.module.__name__))
