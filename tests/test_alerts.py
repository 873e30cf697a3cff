"""Watch rules and their deliveries against a local webhook receiver, a real SMTP server
(aiosmtpd) and feed files: once per story, retry after failures, nothing lost on kill -9,
re-evaluation after reflagging, and the `sahel alerts` commands."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from sahel_crawler import settings
from sahel_crawler.alerts.deliver import DeliveryOptions
from sahel_crawler.alerts.run import load_rules, run_alerts
from sahel_crawler.cli import main
from sahel_crawler.lexicon import load_lexicon, parse_lexicon
from sahel_crawler.lexicon.loader import Lexicon
from sahel_crawler.lexicon.reflag import reflag_articles
from storage import repository as repo
from storage.db import open_database, session_factory
from storage.models import AlertDelivery, utcnow
from tests.conftest import start_sahel
from tests.test_digest_email import Inbox, smtp_server  # noqa: F401  (a fixture)
from tests.test_postgres_storage import fill, hit

SECRET_PATH = "/hooks/T0KEN-s3cret?key=hunter2"


class Receiver:
    """A webhook receiver on 127.0.0.1: keeps every JSON body; answers 500 while `failures`
    lasts, and holds a request while `hold` is set."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.failures = 0
        self.hold = threading.Event()
        self.received = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.paths.append(self.path)
                receiver.received.set()
                if receiver.hold.is_set():
                    time.sleep(30)
                    return
                status = 500 if receiver.failures > 0 else 200
                receiver.failures -= 1
                if status == 200:
                    receiver.bodies.append(body)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{SECRET_PATH}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'sahel.db'}"
    fill(url)  # the French Azawad story of France 24 and its Middle East Online copy, and others
    return url


def write_watch(path: Path, receiver_url: str, feed: Path, email: str | None = None) -> Path:
    deliver = [{"webhook": receiver_url}, {"feed": str(feed)}] + ([{"email": email}] if email else [])
    rules = {"rules": [{"id": "azawad-fr", "query": "concept:azawad AND lang:fr", "deliver": deliver}]}
    path.write_text(json.dumps(rules), encoding="utf-8")  # JSON is YAML
    return path


OPTIONS = DeliveryOptions(
    smtp_url=None, sender=None, retry_seconds=60, retry_max_seconds=3600, webhook_timeout=5, feed_entries=100
)


def run(db_url: str, watch: Path, now=None, options: DeliveryOptions = OPTIONS):  # type: ignore[no-untyped-def]
    rules, evaluator = load_rules(watch)
    engine = open_database(db_url)
    try:
        return run_alerts(engine, rules, evaluator, options, now)
    finally:
        engine.dispose()


def test_one_alert_per_story_lists_its_copies_on_every_channel(
    db_url: str,
    tmp_path: Path,
    receiver: Receiver,
    smtp_server: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp_server
    feed = tmp_path / "feeds" / "azawad.xml"
    watch = write_watch(tmp_path / "watch.yaml", receiver.url, feed, email="desk@example.org")
    options = DeliveryOptions(f"smtp://127.0.0.1:{port}", "alerts@monitor.example.org", 60, 3600, 5, 100)
    report = run(db_url, watch, options=options)
    assert [e.new_alerts for e in report.evaluations] == [1]
    assert (report.deliveries.sent, report.deliveries.failed) == (3, 0)
    [body] = receiver.bodies
    assert body["rule"] == "azawad-fr" and "azawad" in body["concepts"]
    assert sorted(a["url"] for a in body["articles"]) == ["https://f24.example/fr/3", "https://meo.example/fr/4"]
    assert {a["outlet"] for a in body["articles"]} == {"france24", "meo"}
    assert "Azawad" in body["snippet"] and body["text"].startswith("[azawad-fr] Mali : attaque près de Ménaka")
    [message] = inbox.messages()
    assert message["To"] == "desk@example.org" and message["Subject"] == "Sahel alert azawad-fr: 2 articles"
    assert "https://meo.example/fr/4" in message.get_body(("plain",)).get_content()
    parsed = feedparser.parse(feed.read_bytes())
    assert not parsed.bozo and parsed.version == "atom10"
    [entry] = parsed.entries
    assert entry.link == "https://f24.example/fr/3" and entry.title == "Mali : attaque près de Ménaka"
    assert {t.term for t in entry.tags} >= {"azawad", "outlet:france24", "outlet:meo", "lang:fr"}
    # Nothing new: nothing sent again, on any channel.
    again = run(db_url, watch, options=options)
    assert [e.new_alerts for e in again.evaluations] == [0] and again.deliveries.sent == 0
    assert len(receiver.bodies) == 1 and len(inbox.messages()) == 1


def test_a_failed_delivery_is_retried_after_its_backoff_and_reported(
    db_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    watch = write_watch(tmp_path / "watch.yaml", receiver.url, tmp_path / "azawad.xml")
    receiver.failures = 1
    now = utcnow()
    first = run(db_url, watch, now)
    assert (first.deliveries.sent, first.deliveries.failed) == (1, 1)  # the feed was written
    assert first.deliveries.errors == ["azawad-fr: webhook 127.0.0.1: HTTP 500"]
    listed = CliRunner().invoke(main, ["alerts", "list", "--db", db_url])
    assert listed.exit_code == 0
    assert "azawad-fr:" in listed.output and "1 sent, 0 pending, 1 failed" in listed.output
    assert "last failure: webhook 127.0.0.1: HTTP 500" in listed.output
    health = CliRunner().invoke(main, ["health", "--db", db_url])
    assert "1 alert delivery failed, retried later (sahel alerts list)" in health.output
    early = run(db_url, watch, now + timedelta(seconds=30))  # before the 60 s backoff
    assert early.deliveries.sent == 0 and receiver.bodies == []
    late = run(db_url, watch, now + timedelta(seconds=61))
    assert late.deliveries.sent == 1 and len(receiver.bodies) == 1
    assert late.evaluations[0].new_alerts == 0
    assert "2 sent, 0 pending, 0 failed" in CliRunner().invoke(main, ["alerts", "list", "--db", db_url]).output


def test_an_unreachable_webhook_fails_without_showing_its_secret(db_url: str, tmp_path: Path) -> None:
    with Receiver() as gone:
        url = gone.url
    watch = write_watch(tmp_path / "watch.yaml", url, tmp_path / "azawad.xml")
    report = run(db_url, watch)
    assert report.deliveries.failed == 1
    assert report.deliveries.errors[0].startswith("azawad-fr: webhook 127.0.0.1: unreachable")
    engine = open_database(db_url)
    with engine.connect() as connection:
        dump = "\n".join(" ".join(map(str, row)) for row in connection.execute(text("SELECT * FROM alert_deliveries")))
    engine.dispose()
    assert "T0KEN" not in dump and "hunter2" not in dump and "127.0.0.1" in dump


def test_kill_9_between_evaluation_and_delivery_loses_nothing(db_url: str, tmp_path: Path, receiver: Receiver) -> None:
    watch = write_watch(tmp_path / "watch.yaml", receiver.url, tmp_path / "azawad.xml")
    receiver.hold.set()  # the receiver takes the request and never answers
    process = start_sahel("alerts", "run", "--db", db_url, "--watch", str(watch))
    try:
        assert receiver.received.wait(60), "the webhook was never called"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    receiver.hold.clear()
    result = CliRunner().invoke(main, ["alerts", "run", "--db", db_url, "--watch", str(watch)])
    assert result.exit_code == 0, result.output
    assert "rule azawad-fr: 0 articles evaluated, 0 new alerts" in result.output
    assert len(receiver.bodies) == 1  # delivered on the next run, the alert recorded once
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        statuses = session.scalars(select(AlertDelivery.status)).all()
    engine.dispose()
    assert sorted(statuses) == ["sent", "sent"]
    assert SECRET_PATH not in result.output


def test_reflagging_with_a_new_lexicon_alerts_the_new_matches_only(
    db_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    watch = tmp_path / "watch.yaml"
    rules = {"rules": [{"id": "niamey", "query": "concept:niamey", "deliver": [{"webhook": receiver.url}]}]}
    watch.write_text(json.dumps(rules), encoding="utf-8")
    assert run(db_url, watch).evaluations[0].new_alerts == 0  # stored without a niamey hit
    engine = open_database(db_url)
    reflag_articles(session_factory(engine), load_lexicon())  # the bundled lexicon finds Niamey
    engine.dispose()
    report = run(db_url, watch)
    assert report.evaluations[0].new_alerts == 1 and report.deliveries.sent == 1
    assert [a["url"] for a in receiver.bodies[0]["articles"]] == ["https://bbc.example/en/5"]
    engine = open_database(db_url)
    reflag_articles(session_factory(engine), Lexicon(parse_lexicon({"concepts": []})))  # hits removed
    engine.dispose()
    assert run(db_url, watch).deliveries.sent == 0  # nothing unsent, nothing sent again


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"id": "Bad Id", "query": "kidal", "deliver": [{"feed": "f"}]}], "rule #1: key 'id': String should match"),
        ([{"id": "a", "query": "kidal", "deliver": [{"feed": "f"}], "extra": 1}], "rule 'a': unknown key 'extra'"),
        ([{"id": "a", "query": "kidal AND", "deliver": [{"feed": "f"}]}], "rule 'a': key 'query': malformed query at"),
        ([{"id": "a", "query": "x", "deliver": [{"webhook": "ftp://x/y"}]}], "key 'deliver.webhook': must be"),
        ([{"id": "a", "query": "x", "deliver": [{"feed": "f", "email": "a@b.c"}]}], "key 'deliver': give one"),
        ([{"id": "a", "breaking": {"concepts": ["nope"]}, "deliver": [{"feed": "f"}]}], "'breaking.concepts': nope"),
        ([{"id": "a", "deliver": [{"feed": "f"}]}], "rule 'a': give either query or breaking"),
        ([{"id": "a", "query": "x", "deliver": [{"feed": "f"}]}] * 2, "rule 'a': key 'id': given to two rules"),
    ],
)
def test_a_bad_watch_file_exits_2_with_one_line_naming_file_rule_and_key(
    tmp_path: Path, db_url: str, rules: list, message: str
) -> None:
    watch = tmp_path / "watch.yaml"
    watch.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    result = CliRunner().invoke(main, ["alerts", "run", "--db", db_url, "--watch", str(watch)])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"sahel: error: {watch}: ") and message in line, line


def test_alerts_feed_prints_a_rules_feed_as_atom_or_rss(db_url: str, tmp_path: Path, receiver: Receiver) -> None:
    run(db_url, write_watch(tmp_path / "watch.yaml", receiver.url, tmp_path / "azawad.xml"))
    for fmt, version in (("atom", "atom10"), ("rss", "rss20")):
        result = CliRunner().invoke(main, ["alerts", "feed", "azawad-fr", "--db", db_url, "--format", fmt])
        assert result.exit_code == 0
        parsed = feedparser.parse(result.output.encode())
        assert parsed.version == version and [e.link for e in parsed.entries] == ["https://f24.example/fr/3"]
    unknown = CliRunner().invoke(main, ["alerts", "feed", "nope", "--db", db_url])
    assert unknown.exit_code == 2 and "unknown rule nope; evaluated rules: azawad-fr" in unknown.output


def test_alerts_run_without_a_watch_file_exits_2(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "SAHEL_WATCH_PATH", None)
    result = CliRunner().invoke(main, ["alerts", "run", "--db", db_url])
    assert result.exit_code == 2 and "no watch file" in result.output


def _jnim_article(n: int, when) -> repo.ArticleRecord:  # type: ignore[no-untyped-def]
    return repo.ArticleRecord(
        url=f"https://f24.example/en/jnim-{n}", outlet="france24", title=f"JNIM attack {n}",
        text=f"JNIM fighters attacked a post, story {n}.", fetched_at=when, published_at=when, language="en",
        keyword_hits=[hit("jnim", "JNIM")], lexicon_version="v1",
    )  # fmt: skip


@pytest.mark.parametrize(("usual_per_day", "alerts"), [(0, 1), (1, 1), (2, 0)])  # 3 stories >= 3 x usual
def test_breaking_alerts_on_a_spike_against_the_same_hours_of_the_previous_week(
    tmp_path: Path, receiver: Receiver, usual_per_day: int, alerts: int
) -> None:
    now = utcnow()
    url = f"sqlite:///{tmp_path / 'spike.db'}"
    recent = [_jnim_article(n, now - timedelta(hours=1, minutes=n)) for n in range(3)]
    past = [
        _jnim_article(100 + 10 * d + k, now - timedelta(days=d, hours=2))
        for d in range(1, 8)
        for k in range(usual_per_day)
    ]
    fill(url, recent + past)
    watch = tmp_path / "watch.yaml"
    rule = {"id": "breaking", "breaking": {"concepts": ["jnim", "fla"], "window_hours": 6, "min_stories": 3,
            "factor": 3}, "deliver": [{"webhook": receiver.url}]}  # fmt: skip
    watch.write_text(json.dumps({"rules": [rule]}), encoding="utf-8")
    assert run(url, watch, now).evaluations[0].new_alerts == alerts
    assert len(receiver.bodies) == alerts
    if alerts:
        [body] = receiver.bodies
        assert body["concepts"] == ["jnim"] and len(body["articles"]) == 3
        assert (
            body["title"].startswith("Breaking: ") and f"3 stories in 6 h (usually {usual_per_day}.0)" in body["title"]
        )
    assert run(url, watch, now + timedelta(minutes=5)).evaluations[0].new_alerts == 0  # once per window
