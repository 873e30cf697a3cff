"""Sending a digest by email: one multipart/alternative message (Markdown text + HTML) over SMTP.

The SMTP server is a URL: ``smtp://[user:pass@]host[:port]`` (plain, port 25),
``smtp+starttls://...`` (STARTTLS, port 587) or ``smtps://...`` (TLS from the start, port 465).
Headers hold only the configured addresses and a subject built from the date and counts.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import unquote, urlsplit

from sahel_crawler.digest.safety import clean_text

SMTP_TIMEOUT = 60
_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailError(RuntimeError):
    """The digest could not be sent (server unreachable, refused, authentication failed)."""


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to connect; parsed from SAHEL_SMTP_URL by `parse_smtp_url`."""

    host: str
    port: int
    security: str  # none | starttls | tls
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never show the password in logs or tracebacks
        return f"SmtpConfig({self.host!r}, {self.port}, {self.security!r}, user={self.username!r})"


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse an SMTP URL; ValueError with a one-line reason when it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"SAHEL_SMTP_URL is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(
            f"SAHEL_SMTP_URL scheme {parts.scheme!r} unsupported (use smtp://, smtp+starttls:// or smtps://)"
        )
    if not parts.hostname:
        raise ValueError("SAHEL_SMTP_URL has no host (expected e.g. smtp+starttls://user:pass@mail.example.org)")
    security = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}[scheme]
    return SmtpConfig(
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[scheme],
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def parse_addresses(values: list[str] | tuple[str, ...], what: str) -> list[Address]:
    """Addresses from values that may each hold several, comma-separated; ValueError when one
    is not a plain mailbox (no display names, no line breaks)."""
    found = []
    for value in values:
        for item in (v.strip() for v in value.split(",")):
            if not item:
                continue
            local, at, domain = item.rpartition("@")
            if not at or not local or not domain or any(c.isspace() or c in '<>",;()' for c in item):
                raise ValueError(f"{what}: {item!r} is not an email address")
            found.append(Address(addr_spec=item))
    return found


def build_message(*, subject: str, sender: Address, recipients: list[Address], text: str, html: str) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML as the preferred part."""
    message = EmailMessage()
    message["Subject"] = clean_text(subject)
    message["From"] = sender
    message["To"] = recipients
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.domain or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a daily digest
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def send_message(config: SmtpConfig, message: EmailMessage) -> list[str]:
    """Deliver `message` through the configured server and return the recipients it refused
    (the others got it); MailError with a one-line reason when nobody got it."""
    context = ssl.create_default_context()
    try:
        if config.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=SMTP_TIMEOUT, context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=SMTP_TIMEOUT)
        with client:
            if config.security == "starttls":
                client.starttls(context=context)
            if config.username:
                client.login(config.username, config.password or "")
            refused = client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise MailError(f"cannot send the digest through {config.host}:{config.port}: {reason}") from None
    return sorted(refused)
