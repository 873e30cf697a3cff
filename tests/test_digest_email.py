"""Emailing the digest through a real local SMTP server (aiosmtpd), once per day unless forced."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result

from sahel_crawler import settings
from sahel_crawler.commands.digest import digest as digest_command
from sahel_crawler.digest.mail import parse_smtp_url
from storage.db import open_database, session_factory
from storage.digests import recent_digest_runs
from tests.test_digest import ORIGINAL, fill_database

SUBJECT = "Sahel news digest 2026-11-19 (Africa/Bamako): 5 flagged stories"


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=default_policy) for e in self.envelopes]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), ready_timeout=10)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'sahel.db'}"
    fill_database(url)
    return url


@pytest.fixture
def mail_settings(monkeypatch: pytest.MonkeyPatch, smtp_server: tuple[Inbox, int]) -> None:
    monkeypatch.setattr(settings, "SAHEL_SMTP_URL", f"smtp://127.0.0.1:{smtp_server[1]}", raising=False)
    monkeypatch.setattr(settings, "SAHEL_DIGEST_FROM", "digest@monitor.example.org", raising=False)
    monkeypatch.setattr(settings, "SAHEL_DIGEST_TO", "desk@example.org, analyst@example.org", raising=False)
    monkeypatch.setattr(settings, "SAHEL_DIGEST_TZ", "Africa/Bamako", raising=False)


def send(db_url: str, *extra: str) -> Result:
    return CliRunner().invoke(digest_command, ["--db", db_url, "--date", "2026-11-19", *extra])


@pytest.mark.usefixtures("mail_settings")
def test_digest_is_mailed_as_text_and_html_with_a_fixed_subject(db_url: str, smtp_server: tuple[Inbox, int]) -> None:
    inbox, _ = smtp_server
    result = send(db_url, "--send")
    assert result.exit_code == 0, result.output
    assert "sent the digest of 2026-11-19 to analyst@example.org, desk@example.org" in result.stderr
    assert result.stdout == ""  # emailed only: nothing on stdout for cron to mail again
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "digest@monitor.example.org"
    assert sorted(envelope.rcpt_tos) == ["analyst@example.org", "desk@example.org"]
    (message,) = inbox.messages()
    assert message["Subject"] == SUBJECT
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert f"]({ORIGINAL})" in text.get_content()
    assert "هجوم قرب كيدال" in html.get_content() and 'dir="rtl"' in html.get_content()
    assert "&lt;script&gt;" in html.get_content() and "<script" not in html.get_content()


@pytest.mark.usefixtures("mail_settings")
def test_the_same_day_is_not_sent_twice_unless_forced(db_url: str, smtp_server: tuple[Inbox, int]) -> None:
    inbox, _ = smtp_server
    assert send(db_url, "--send").exit_code == 0
    again = send(db_url, "--send")
    assert again.exit_code == 0
    assert "already sent" in again.stderr and "--force" in again.stderr
    assert len(inbox.envelopes) == 1
    other = send(db_url, "--email", "editor@example.org")  # other recipients: another digest
    assert other.exit_code == 0 and len(inbox.envelopes) == 2
    forced = send(db_url, "--send", "--force")
    assert forced.exit_code == 0, forced.output
    assert len(inbox.envelopes) == 3
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        statuses = [(r.delivery, r.status) for r in recent_digest_runs(session)]
    engine.dispose()
    assert statuses == [("email", "sent")] * 3


@pytest.mark.usefixtures("mail_settings")
def test_a_failed_send_exits_1_and_does_not_block_the_retry(
    db_url: str, smtp_server: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp_server
    monkeypatch.setattr(settings, "SAHEL_SMTP_URL", f"smtp://127.0.0.1:{_free_port()}")  # nobody listens
    failed = send(db_url, "--send")
    assert failed.exit_code == 1
    assert failed.stderr.strip().splitlines()[-1].startswith("sahel: error: cannot send the digest")
    monkeypatch.setattr(settings, "SAHEL_SMTP_URL", f"smtp://127.0.0.1:{port}")
    retry = send(db_url, "--send")
    assert retry.exit_code == 0, retry.output
    assert len(inbox.envelopes) == 1


def test_digest_written_and_mailed_in_one_run(
    db_url: str, smtp_server: tuple[Inbox, int], tmp_path: Path, mail_settings: None
) -> None:
    out = tmp_path / "digest.html"
    result = send(db_url, "--email", "desk@example.org", "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert len(smtp_server[0].envelopes) == 1


def test_missing_smtp_settings_are_a_usage_error(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "SAHEL_SMTP_URL", None, raising=False)
    monkeypatch.setattr(settings, "SAHEL_DIGEST_FROM", "digest@monitor.example.org", raising=False)
    result = send(db_url, "--email", "desk@example.org")
    assert result.exit_code == 2
    assert "SAHEL_SMTP_URL" in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", ("mail.example.org", 25, "none", None, None)),
        ("smtp+starttls://user%40x:p%3Ass@mail.example.org", ("mail.example.org", 587, "starttls", "user@x", "p:ss")),
        ("smtps://u:p@mail.example.org:2465", ("mail.example.org", 2465, "tls", "u", "p")),
    ],
)
def test_smtp_url_forms(url: str, expected: tuple[Any, ...]) -> None:
    config = parse_smtp_url(url)
    assert (config.host, config.port, config.security, config.username, config.password) == expected


def test_smtp_password_never_shows_in_repr() -> None:
    assert "s3cret-pw" not in repr(parse_smtp_url("smtps://user:s3cret-pw@mail.example.org"))


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "smtp://host:notaport"])
def test_bad_smtp_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="SAHEL_SMTP_URL"):
        parse_smtp_url(url)
