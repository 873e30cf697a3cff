"""Publication dates: parse what the page declares, fall back to the URL and htmldate."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from lxml.html import HtmlElement

from sahel_crawler.text.dates import parse_date

log = logging.getLogger(__name__)

# Oldest plausible publication date; anything earlier is a parsing accident.
MIN_DATE = datetime(1995, 1, 1, tzinfo=UTC)
# Pages may be stamped slightly ahead of the crawler's clock (time zones, embargoes).
FUTURE_TOLERANCE = timedelta(days=2)

# /20240131-slug, /2024/01/31/, /2024-01-31/ in the URL path.
_URL_DATE = re.compile(
    r"/(?P<y>(?:19|20)\d\d)(?P<sep>[/-]?)(?P<m>0[1-9]|1[0-2])(?P=sep)(?P<d>0[1-9]|[12]\d|3[01])(?:[/_-]|$)"
)
# Al Jazeera writes month and day unpadded between slashes: /news/2026/4/12/slug.
_URL_DATE_UNPADDED = re.compile(r"/(?P<y>(?:19|20)\d\d)/(?P<m>[1-9]|1[0-2])/(?P<d>[1-9]|[12]\d|3[01])/")


def plausible(value: datetime | None, now: datetime | None = None) -> bool:
    """True for a date between 1995 and (about) now."""
    if value is None:
        return False
    now = now or datetime.now(UTC)
    return MIN_DATE <= value <= now + FUTURE_TOLERANCE


_OFFSET = re.compile(r"(?:[zZ]|[+-]\d\d:?\d\d|\s(?:UTC|GMT))\s*$")


def has_offset(raw: str) -> bool:
    """True when a declared date string states its UTC offset ("Z", "+02:00", "UTC")."""
    return bool(_OFFSET.search(raw.strip())) and bool(re.search(r"\d[T ]\d", raw))


def declared_date(raw: str | None) -> datetime | None:
    """A date the page declares (JSON-LD, meta, time[datetime]) with the offset it declared, if
    plausible; None otherwise."""
    value = parse_date(raw)
    return value if plausible(value) else None


def url_date(url: str | None) -> datetime | None:
    """Date written in the URL path (France 24: /fr/afrique/20240131-slug; Al Jazeera:
    /news/2026/4/12/slug), midnight UTC."""
    if not url:
        return None
    match = _URL_DATE.search(url) or _URL_DATE_UNPADDED.search(url)
    if not match:
        return None
    try:
        value = datetime(int(match["y"]), int(match["m"]), int(match["d"]), tzinfo=UTC)
    except ValueError:
        return None
    return value if plausible(value) else None


def htmldate_date(tree: HtmlElement, url: str | None) -> datetime | None:
    """htmldate's original publication date on the page, midnight UTC, or None."""
    try:
        from htmldate import find_date

        found = find_date(tree, url=url, original_date=True, extensive_search=True)
    except Exception:  # htmldate on hostile markup: a missing date, not a crash
        log.debug("htmldate failed on %s", url, exc_info=True)
        return None
    if not found:
        return None
    try:
        value = datetime.strptime(found, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return value if plausible(value) else None
