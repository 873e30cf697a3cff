"""End to end: crawl the bundled replay, then build the digest of its days from the database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jsonschema
import lxml.html
import pytest
from click.testing import CliRunner

from sahel_crawler.commands.digest import digest as digest_command
from sahel_crawler.digest import SCHEMA_PATH
from sahel_crawler.replay import ReplayServer
from tests.conftest import crawl_replay

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def replay_digest(replay: ReplayServer, replay_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The JSON digest of every day the replay covers, built from one crawl of it."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('digest-e2e') / 'sahel.db'}"
    crawl = crawl_replay(replay_sources, db_url)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    published = [e.published_at for e in replay.expected_articles() if e.stored]
    since, until = min(published).date().isoformat(), max(published).date().isoformat()
    result = CliRunner().invoke(
        digest_command,
        ["--db", db_url, "--since", since, "--until", until, "--tz", "UTC", "--format", "json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    html = CliRunner().invoke(
        digest_command, ["--db", db_url, "--since", since, "--until", until, "--tz", "UTC", "--format", "html"]
    )
    assert html.exit_code == 0, html.output
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as db:
        near_duplicates = db.execute("SELECT count(*) FROM articles WHERE duplicate_of_id IS NOT NULL").fetchone()[0]
    return {**json.loads(result.stdout), "_near_duplicates": near_duplicates, "_html": html.stdout}


def _listed(document: dict) -> dict[str, set[str]]:
    """URL -> concepts under which the digest lists it (as a story or as a copy of one)."""
    listed: dict[str, set[str]] = {}
    for concept in document["concepts"]:
        for story in concept["stories"]:
            for url in [story["url"], *(a["url"] for a in story["also"])]:
                listed.setdefault(url, set()).add(concept["id"])
    return listed


def test_replay_digest_validates_and_lists_every_flagged_article(replay: ReplayServer, replay_digest: dict) -> None:
    document = {k: v for k, v in replay_digest.items() if not k.startswith("_")}
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    listed = _listed(replay_digest)
    flagged = [e for e in replay.expected_articles() if e.stored and e.concepts]
    assert flagged, "the replay should contain flagged articles"
    for expected in flagged:
        assert listed.get(expected.url, set()) & set(expected.concepts), f"{expected.url} missing from the digest"
    labels = {c["id"]: c["label"] for c in replay_digest["concepts"]}
    assert labels.get("kidal") == "Kidal"  # labels come from the lexicon


def test_replay_syndicated_copies_are_grouped_under_their_original(replay: ReplayServer, replay_digest: dict) -> None:
    copies = [e for e in replay.expected_articles() if e.stored and e.duplicate_of]
    assert copies, "the replay should serve a syndicated copy"
    assert replay_digest["_near_duplicates"], "the crawl recorded no near-duplicate"
    stories = [s for c in replay_digest["concepts"] for s in c["stories"]]
    for copy in copies:
        assert copy.url not in {s["url"] for s in stories}, f"{copy.url} shown as a story of its own"
        carriers = [s for s in stories if copy.url in {a["url"] for a in s["also"]}]
        assert carriers and all(s["url"] == copy.duplicate_of for s in carriers)
    arabic = [s for s in stories if s["language"] == "ar"]
    assert arabic, "the replay has flagged Arabic stories"


def test_replay_page_title_with_script_is_escaped_and_arabic_is_rtl(replay: ReplayServer, replay_digest: dict) -> None:
    page = lxml.html.fromstring(replay_digest["_html"])
    assert not page.xpath("//script")
    titles = [e.title for e in replay.expected_articles() if e.stored and e.concepts and "<script>" in e.title]
    assert titles, "the replay should serve a page title containing <script>"
    # each headline follows its rank ("3. ")
    shown = {h.text_content().strip().split(maxsplit=1)[1] for h in page.xpath("//li[contains(@class, 'story')]/h3")}
    assert set(titles) <= shown  # shown as text, which only escaping allows
    arabic = page.xpath("//li[contains(@class, 'story')][@lang='ar']")
    assert arabic and {li.get("dir") for li in arabic} == {"rtl"}
