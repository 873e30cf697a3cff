"""The HTML digest in a real browser: headless Chromium renders it without console errors or
blocked resources, at phone width, and leaves a screenshot in tests/artifacts/; the demo's day
at desktop (1200 px) and email (600 px) widths shows each story once and stays short."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from PIL import Image

from sahel_crawler.commands.digest import digest as digest_command
from sahel_crawler.digest import render
from sahel_crawler.replay import ReplayServer
from tests.conftest import REPLAY_NOW, REPO, REQUIRE_SERVICES, crawl_replay
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


# -- the demo's day, story first ------------------------------------------------------------

DEMO_DAY = (REPLAY_NOW - timedelta(days=1)).date()  # `sahel demo` digests yesterday
MAX_DESKTOP_HEIGHT = 3000
BACKGROUND = (255, 255, 255)


@pytest.fixture(scope="module")
def demo_digest_html(replay: ReplayServer, replay_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML digest of the demo's day, from one crawl of the bundled replay."""
    folder = tmp_path_factory.mktemp("demo-digest")
    db_url = f"sqlite:///{folder / 'demo.db'}"
    crawl = crawl_replay(replay_sources, db_url)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    page = folder / "digest.html"
    args = ["--db", db_url, "--date", DEMO_DAY.isoformat(), "--format", "html", "--out", str(page)]
    result = CliRunner().invoke(digest_command, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return page


def _content_height(screenshot: Path) -> int:
    """Pixels from the top of the page to the last row that is not plain background."""
    with Image.open(screenshot) as image:
        pixels = image.convert("RGB")
        width, height = pixels.size
        for row in range(height - 1, -1, -1):
            if any(pixels.getpixel((x, row)) != BACKGROUND for x in range(0, width, 2)):
                return row + 1
    return 0


@pytest.mark.slow
@pytest.mark.timeout(1000)
@pytest.mark.parametrize(("width", "name"), [(1200, "desktop"), (600, "email")])
def test_demo_digest_shows_each_story_once_and_fits_the_screen(
    chromium: str, demo_digest_html: Path, tmp_path: Path, width: int, name: str
) -> None:
    canvas = MAX_DESKTOP_HEIGHT + 2000  # taller than the page, so the screenshot holds all of it
    screenshot = tmp_path / f"demo-digest-{name}.png"
    shot = _chromium(
        chromium,
        tmp_path / "profile-shot",
        f"--window-size={width},{canvas}",
        f"--screenshot={screenshot}",
        demo_digest_html.as_uri(),
    )
    assert screenshot.exists(), shot.stderr[-2000:]
    assert _page_problems(shot.stderr) == []
    height = _content_height(screenshot)
    print(f"{name}: {width} px wide, content {height} px tall, screenshot {screenshot}")
    if width == 1200:
        assert 0 < height < MAX_DESKTOP_HEIGHT, f"the demo's digest is {height} px tall at 1200 px"

    dom = _chromium(
        chromium, tmp_path / "profile-dom", f"--window-size={width},{canvas}", "--dump-dom", demo_digest_html.as_uri()
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = lxml.html.fromstring(dom.stdout).body
    titles = [h.text_content().split(".", 1)[1].strip() for h in body.xpath("//li[contains(@class, 'story')]/h3")]
    assert len(titles) >= 5
    text = body.text_content()
    assert {title: text.count(title) for title in titles} == dict.fromkeys(titles, 1)
    pairs = [" ".join(tr.text_content().split()) for tr in body.xpath("//section[@id='pairs']//tbody/tr")]
    assert any("(FLA)" in row and "(JNIM)" in row for row in pairs), pairs
