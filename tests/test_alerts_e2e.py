"""End to end: `sahel crawl --watch` of the replay, where France 24 and Middle East Online both
carry an FLA-JNIM story and France 24 Arabic another one, posts one webhook alert per story (the
first listing both copies), writes a feed with one entry per story and emails once per story;
the same crawl again sends nothing; `sahel search` on the query language returns exactly the
matching articles."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
import yaml

from sahel_crawler.demo import REPLAY_OVERRIDES
from sahel_crawler.replay import ReplayServer
from tests.conftest import crawl_replay, run_sahel
from tests.test_alerts import SECRET_PATH, Receiver
from tests.test_digest_email import Inbox, smtp_server  # noqa: F401  (a fixture)

pytestmark = pytest.mark.slow


def test_a_crawl_with_a_watch_file_alerts_once_per_story_on_every_channel(
    replay: ReplayServer,
    replay_sources: Path,
    tmp_path: Path,
    smtp_server: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp_server
    feed = tmp_path / "feeds" / "fla-jnim.xml"
    with Receiver() as receiver:
        watch = tmp_path / "watch.yaml"
        rule = {"id": "fla-jnim", "query": "concept:fla AND concept:jnim",
                "deliver": [{"webhook": receiver.url}, {"email": "desk@example.org"}, {"feed": str(feed)}]}  # fmt: skip
        watch.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
        env = {"SAHEL_SMTP_URL": f"smtp://127.0.0.1:{port}", "SAHEL_ALERT_FROM": "alerts@monitor.example.org"}
        db_url = f"sqlite:///{tmp_path / 'sahel.db'}"
        first = crawl_replay(replay_sources, db_url, "--watch", str(watch), env=env)
        assert first.returncode == 0, first.stderr[-3000:]
        assert "rule fla-jnim:" in first.stdout and "2 new alerts" in first.stdout
        assert "deliveries: 6 sent, 0 failed" in first.stdout
        again = crawl_replay(replay_sources, db_url, "--watch", str(watch), env=env)
        assert again.returncode == 0, again.stderr[-3000:]
        assert "rule fla-jnim: 0 articles evaluated, 0 new alerts" in again.stdout
        assert "deliveries: 0 sent" in again.stdout
        for output in (first, again):
            assert "T0KEN" not in output.stdout + output.stderr and "hunter2" not in output.stdout + output.stderr
    expected = {e.url: e for e in replay.expected_articles() if e.stored}
    stories: dict[str, list[str]] = {}  # the original's URL -> every URL of the story
    for url, e in sorted(expected.items()):
        if {"fla", "jnim"} <= set(e.concepts):
            stories.setdefault(e.duplicate_of or url, []).append(url)
    matching = sorted(url for urls in stories.values() for url in urls)
    assert sorted(len(urls) for urls in stories.values()) == [1, 2]
    syndicated = next(sorted(urls) for urls in stories.values() if len(urls) == 2)
    assert {expected[url].outlet for url in syndicated} == {"france24", "meo"}
    assert receiver.paths == [SECRET_PATH, SECRET_PATH]
    assert sorted(sorted(a["url"] for a in body["articles"]) for body in receiver.bodies) == sorted(
        sorted(urls) for urls in stories.values()
    )
    assert all({"fla", "jnim"} <= set(b["concepts"]) and b["rule"] == "fla-jnim" for b in receiver.bodies)
    assert len(inbox.messages()) == 2
    parsed = feedparser.parse(feed.read_bytes())
    assert not parsed.bozo and len(parsed.entries) == 2 and all(e.link in matching for e in parsed.entries)

    def search(query: str) -> list[str]:
        result = run_sahel("search", query, "--db", db_url, "--format", "jsonl", "--limit", "1000")
        assert result.returncode == 0, result.stderr
        return sorted(json.loads(line)["url"] for line in result.stdout.splitlines())

    jnim_not_arabic = sorted(url for url, e in expected.items() if "jnim" in e.concepts and e.language != "ar")
    assert len(jnim_not_arabic) >= 4
    assert search("concept:jnim AND NOT lang:ar") == jnim_not_arabic
    assert search("NEAR/10(concept:fla, concept:jnim)") == matching


def test_a_scheduled_crawl_job_naming_a_watch_file_runs_its_rules(replay_sources: Path, tmp_path: Path) -> None:
    feed = tmp_path / "fla-jnim.xml"
    watch = tmp_path / "watch.yaml"
    rule = {"id": "fla-jnim", "query": "NEAR/10(concept:fla, concept:jnim)", "deliver": [{"feed": "fla-jnim.xml"}]}
    watch.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    schedule = tmp_path / "schedule.yaml"
    job = {"kind": "crawl", "every": "1h", "sources": str(replay_sources), "watch": "watch.yaml",
           "time_limit": "120s", "settings": REPLAY_OVERRIDES}  # fmt: skip
    schedule.write_text(yaml.safe_dump({"jobs": {"crawl-all": job}}), encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'sahel.db'}"
    # A rule's feed path is relative to the working directory, the scheduler's (here tmp_path).
    result = run_sahel("schedule", "run-job", "crawl-all", "--schedule", str(schedule), "--db", db_url,
                       timeout=180, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(feedparser.parse(feed.read_bytes()).entries) == 2  # one per FLA-JNIM story
