"""One digest run: build, render, write and/or email, and record it (what `sahel digest` does).

An emailed digest is claimed in the database before it is sent, so a second run for the same
period, recipients and filters (the scheduled job firing twice, cron and the daemon both
configured) sends nothing unless forced.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.headerregistry import Address
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from sahel_crawler.digest.build import Digest, build_digest, concept_labels
from sahel_crawler.digest.mail import MailError, build_message, parse_addresses, parse_smtp_url, send_message
from sahel_crawler.digest.period import Period
from sahel_crawler.digest.render import render, subject
from sahel_crawler.lexicon import load_lexicon
from storage.db import DatabaseError, error_reason, read_only, session_factory
from storage.digests import DigestRun, claim_email, claimed_run, finish_digest_run, start_digest_run


@dataclass(frozen=True)
class DigestRequest:
    """What to build and where it goes. `out` is a file path, "-" for standard output, or None
    (standard output unless the digest is emailed)."""

    period: Period
    fmt: str = "markdown"
    out: str | None = None
    recipients: tuple[str, ...] = ()
    sender: str | None = None
    smtp_url: str | None = None
    concepts: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    lexicon_path: str | None = None
    force: bool = False


@dataclass
class DigestOutcome:
    """What a run did: the digest, where it was written, who got it, or why it was not sent."""

    digest: Digest
    written: str | None = None  # the rendered text when written to standard output
    out_path: str | None = None
    sent_to: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    already_sent: DigestRun | None = None
    unrecorded: str | None = None  # why the written digest's run could not be recorded


def run_digest(engine: Engine, request: DigestRequest, *, now: datetime | None = None) -> DigestOutcome:
    """Run one digest. Raises ValueError for bad settings (before anything is built or sent)
    and for an --out file that cannot be written (before anything is sent), DatabaseError when
    an emailed digest cannot be recorded (it is then not sent), MailError when the email cannot
    be sent (the run is recorded as failed).

    Writing the digest to a file or standard output needs no write to the database: on a
    read-only database the run is not recorded and `unrecorded` says why."""
    smtp = sender = None
    recipients: list[Address] = []
    if request.recipients:
        if not request.smtp_url:
            raise ValueError("emailing a digest needs SAHEL_SMTP_URL (e.g. smtp+starttls://user:pass@host)")
        if not request.sender:
            raise ValueError("emailing a digest needs SAHEL_DIGEST_FROM (the sender address)")
        smtp = parse_smtp_url(request.smtp_url)
        senders = parse_addresses([request.sender], "SAHEL_DIGEST_FROM")
        if len(senders) != 1:
            raise ValueError("SAHEL_DIGEST_FROM must be exactly one address")
        sender = senders[0]
        recipients = parse_addresses(list(request.recipients), "recipient")
        if not recipients:
            raise ValueError("no recipient address given (--email or SAHEL_DIGEST_TO)")
    lexicon = load_lexicon(request.lexicon_path)  # a broken lexicon file is an error (LexiconError)
    if request.concepts:
        request = replace(request, concepts=lexicon.concept_ids(request.concepts))
    labels = concept_labels(lexicon)
    sessions = session_factory(engine)
    with session_factory(read_only(engine))() as session:  # building only reads
        digest = build_digest(
            session, request.period, concepts=request.concepts, languages=request.languages, labels=labels, now=now
        )
    outcome = DigestOutcome(digest)
    period = request.period

    if request.out is not None or not recipients:
        text = render(digest, request.fmt)
        delivery = "stdout" if request.out in (None, "-") else "file"
        if delivery == "file":
            _write(request.out, text)  # type: ignore[arg-type]
            outcome.out_path = request.out
        else:
            outcome.written = text
        outcome.unrecorded = _record_written(sessions, request, digest.story_count, delivery)

    if recipients and smtp is not None and sender is not None:
        addresses = sorted(a.addr_spec for a in recipients)
        key = claim_key(period, addresses, request.concepts, request.languages)
        try:
            with sessions.begin() as session:
                run = claim_email(
                    session,
                    key,
                    period_start=period.start,
                    period_end=period.end,
                    label=period.label,
                    timezone=period.timezone,
                    fmt="multipart",
                    recipients=addresses,
                    force=request.force,
                )
                if run is None:
                    outcome.already_sent = claimed_run(session, key)
                    return outcome
                run_id = run.id
        except SQLAlchemyError as exc:  # e.g. a read-only database: the claim is what sends it once
            raise DatabaseError(f"cannot record the emailed digest, so it was not sent: {error_reason(exc)}") from None
        message = build_message(
            subject=subject(digest),
            sender=sender,
            recipients=recipients,
            text=render(digest, "markdown"),
            html=render(digest, "html"),
        )
        try:
            outcome.refused = send_message(smtp, message)
        except MailError as exc:
            with sessions.begin() as session:
                failed = session.get(DigestRun, run_id)
                if failed is not None:
                    finish_digest_run(session, failed, status="failed", stories=digest.story_count, error=str(exc))
            raise
        with sessions.begin() as session:
            sent = session.get(DigestRun, run_id)
            if sent is not None:
                error = f"refused by the server: {', '.join(outcome.refused)}" if outcome.refused else None
                finish_digest_run(session, sent, status="sent", stories=digest.story_count, error=error)
        outcome.sent_to = [a for a in addresses if a not in outcome.refused]
    return outcome


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:  # a path the user gave: a usage error, like an unreadable input file
        raise ValueError(f"cannot write {path}: {exc.strerror or exc}") from None


def _record_written(sessions: sessionmaker[Session], request: DigestRequest, stories: int, delivery: str) -> str | None:
    """Record a digest written to a file or standard output; None, or why it could not be
    recorded (a read-only database: the digest itself is already out)."""
    period = request.period
    try:
        with sessions.begin() as session:
            run = start_digest_run(
                session,
                period_start=period.start,
                period_end=period.end,
                label=period.label,
                timezone=period.timezone,
                delivery=delivery,
                fmt=request.fmt,
            )
            finish_digest_run(session, run, status="done", stories=stories)
    except SQLAlchemyError as exc:
        return error_reason(exc)
    return None


def claim_key(period: Period, recipients: list[str], concepts: tuple[str, ...], languages: tuple[str, ...]) -> str:
    """The identity of an emailed digest: same period, zone, recipients and filters = same digest."""
    parts = [
        period.start.isoformat(),
        period.end.isoformat(),
        period.timezone,
        ",".join(sorted(recipients)),
        ",".join(sorted(concepts)),
        ",".join(sorted(languages)),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
