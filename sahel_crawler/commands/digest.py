"""`sahel digest`: the daily keyword digest as Markdown, HTML or JSON, written or emailed."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from sahel_crawler import settings as project_settings
from sahel_crawler.commands.common import db_option


class LocalWhen(click.ParamType):
    """A date (YYYY-MM-DD) or, unless `days_only`, an ISO 8601 time, parsed but left in no time
    zone: a bare date or a time without an offset is local to --tz, which the digest applies."""

    name = "date"

    def __init__(self, *, days_only: bool = False) -> None:
        self.days_only = days_only

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return self._parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)

    def _parse(self, value: str) -> date:
        from sahel_crawler.digest.period import check_day, parse_bound  # the digest package is heavy

        if not self.days_only:
            return parse_bound(value)
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
        check_day(day)
        return day


@click.command()
@db_option
@click.option(
    "--date",
    "day",
    type=LocalWhen(days_only=True),
    help="Local day to digest (YYYY-MM-DD); default: yesterday in --tz.",
)
@click.option(
    "--since", type=LocalWhen(), help="Start of a custom period (YYYY-MM-DD or ISO 8601; local to --tz without offset)."
)
@click.option(
    "--until", type=LocalWhen(), help="End of a custom period (a bare date includes that whole day). Default: now."
)
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "json"]), default="markdown", show_default=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, allow_dash=True),
    help="File to write, replaced if present; its folder must exist (default: stdout).",
)  # fmt: skip
@click.option("--email", "emails", multiple=True, metavar="ADDR", help="Email the digest to ADDR (repeatable).")
@click.option("--send", is_flag=True, help="Email the digest to SAHEL_DIGEST_TO (when no --email is given).")
@click.option("--concept", "concepts", multiple=True, metavar="ID", help="Only this concept id (repeatable).")
@click.option("--lang", "languages", multiple=True, metavar="CODE", help="Only this language code (repeatable).")
@click.option(
    "--tz",
    "timezone",
    default=lambda: project_settings.SAHEL_DIGEST_TZ,
    show_default="SAHEL_DIGEST_TZ or Africa/Bamako",
    help="Time zone whose days the digest covers.",
)
@click.option("--force", is_flag=True, help="Email the digest even if it was already sent.")
def digest(
    db_url: str,
    day: date | None,
    since: date | None,
    until: date | None,
    fmt: str,
    out: str | None,
    emails: tuple[str, ...],
    send: bool,
    concepts: tuple[str, ...],
    languages: tuple[str, ...],
    timezone: str,
    force: bool,
) -> None:
    """Build the keyword digest of a day (or period): flagged stories per concept with
    near-duplicates grouped, trends, a 14-day chart and source health.

    Emailed digests are sent once per day, recipients and filters; --force sends again.
    See docs/digest.md.

    Example: sahel digest --date 2026-11-19 --format html --out digest.html
    """
    from sahel_crawler.commands.common import CommandFailed, language_codes, reading_database, user_errors
    from sahel_crawler.digest import DigestRequest, day_period, range_period, run_digest, yesterday
    from sahel_crawler.digest.mail import MailError
    from storage.db import writable

    if day and (since or until):
        raise click.UsageError("--date cannot be combined with --since/--until")
    if until and not since:
        raise click.UsageError("--until needs --since")
    configured = tuple(a.strip() for a in project_settings.SAHEL_DIGEST_TO.split(",") if a.strip())
    recipients = emails or (configured if send else ())
    if send and not recipients:
        raise click.UsageError("--send needs SAHEL_DIGEST_TO (or give --email ADDR)")
    with user_errors():
        if day:
            period = day_period(day, timezone)
        elif since:
            period = range_period(since, until, timezone)
        else:
            period = yesterday(timezone)
        request = DigestRequest(
            period=period,
            fmt=fmt,
            out=out,
            recipients=recipients,
            sender=project_settings.SAHEL_DIGEST_FROM,
            smtp_url=project_settings.SAHEL_SMTP_URL,
            concepts=concepts,
            languages=language_codes(languages),
            lexicon_path=project_settings.SAHEL_LEXICON_PATH,
            force=force,
        )
    with reading_database(db_url) as engine, user_errors():
        try:
            outcome = run_digest(writable(engine), request)  # it records the digest's run
        except MailError as exc:
            raise CommandFailed(str(exc)) from None
    if outcome.written is not None:
        click.echo(outcome.written, nl=False)
    if outcome.out_path:
        click.echo(f"wrote the {fmt} digest of {period.label} to {outcome.out_path}", err=True)
    if outcome.unrecorded:
        click.echo(f"sahel: warning: the digest run was not recorded in the database: {outcome.unrecorded}", err=True)
    if outcome.already_sent is not None:
        earlier = outcome.already_sent
        click.echo(
            f"sahel: digest of {period.label} already sent to {earlier.recipients} "
            f"(run {earlier.id}, {earlier.started_at:%Y-%m-%d %H:%M} UTC); not sent again (use --force)",
            err=True,
        )
    elif outcome.sent_to:
        click.echo(f"sent the digest of {period.label} to {', '.join(outcome.sent_to)}", err=True)
    if outcome.refused:
        click.echo(f"sahel: warning: the SMTP server refused {', '.join(outcome.refused)}", err=True)
