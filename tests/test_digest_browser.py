"""The HTML digest in a real browser: headless Chromium renders it without console errors or
blocked resources, at phone width, and leaves a screenshot in tests/artifacts/."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sahel_crawler.digest import render
from tests.conftest import REPO, REQUIRE_SERVICES
from tests.test_digest import fill_database, make_digest

ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
    "--hide-scrollbars",
    "--window-size=390,1600",  # a phone's width
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (skipped if that is impossible,
    except under SAHEL_REQUIRE_SERVICES=1)."""
    path = shutil.which("chromium")
    if path is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
        for argv in (install, ["apt-get", "update"], install):  # a fresh image has no package lists yet
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):  # not root, no apt: skip below
                subprocess.run(argv, capture_output=True, timeout=300, check=False, env=env)
            if shutil.which("chromium"):
                break
        path = shutil.which("chromium")
    if path is None:
        reason = "chromium is not installed and `apt-get install -y chromium` failed"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason} (SAHEL_REQUIRE_SERVICES=1: this test must run)")
        pytest.skip(f"{reason}; install Debian's chromium package to run this test")
    return path


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _page_problems(stderr: str) -> list[str]:
    """Console errors, uncaught exceptions and blocked resources that Chromium logged."""
    markers = ("Uncaught", "CONSOLE", "Refused to", "Failed to load resource", "net::ERR_")
    return [line for line in stderr.splitlines() if any(m in line for m in markers)]


@pytest.mark.timeout(1000)  # the first run may have to install chromium
def test_html_digest_renders_in_headless_chromium(chromium: str, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'sahel.db'}"
    fill_database(db_url)
    page = tmp_path / "digest.html"
    page.write_text(render(make_digest(db_url), "html"), encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "digest-phone.png"
    screenshot.unlink(missing_ok=True)

    shot = _chromium(chromium, tmp_path / "profile-shot", f"--screenshot={screenshot}", page.as_uri())
    assert screenshot.exists() and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]
    assert _page_problems(shot.stderr) == []

    dom = _chromium(chromium, tmp_path / "profile-dom", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _page_problems(dom.stderr) == []
    assert "<svg" in dom.stdout, "the chart is inline SVG"
    assert "هجوم قرب كيدال" in dom.stdout
    assert 'dir="rtl"' in dom.stdout
    assert "&lt;script&gt;alert(" in dom.stdout and "<script" not in dom.stdout
