"""Feeds, sitemaps and pages read dates and language tags by the same rules, and the body and
the search index agree on whether it already begins with its standfirst."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from pipelines.page_task import with_standfirst
from sahel_crawler.discovery import parse_feed, parse_sitemap
from sahel_crawler.extraction import extract_article
from sahel_crawler.text.index import search_text
from tests.test_extraction import FR_PARAS, france24_page

FEED_URL = "https://www.france24.com/fr/feed.json"
SITEMAP_URL = "https://www.france24.com/sitemaps/fr/news.xml"
# How publishers write one instant: ISO 8601 and its common deviations, RFC 822.
WRITINGS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%d %H:%M:%S UTC",
    "%Y-%m-%d %H:%M GMT",
    "%a, %d %b %Y %H:%M:%S %z",
    "%Y-%m",
)


def _feed_date(written: str) -> datetime | None:
    body = {"version": "https://jsonfeed.org/version/1.1", "items": [{"url": "/a", "date_published": written}]}
    result = parse_feed(json.dumps(body).encode(), FEED_URL, content_type="application/feed+json")
    return result.links[0].published_at


def _sitemap_date(written: str) -> datetime | None:
    body = f"<urlset><url><loc>/a</loc><lastmod>{written}</lastmod></url></urlset>".encode()
    return parse_sitemap(body, SITEMAP_URL).links[0].published_at


def _page_date(written: str) -> datetime | None:
    meta = f'<meta property="article:published_time" content="{written}">'
    html = france24_page(FR_PARAS, head_extra=meta).replace('<time datetime="2024-03-05T09:30:00+01:00">', "<time>")
    article = extract_article(html, "https://www.france24.com/fr/afrique/page")
    assert article is not None
    return article.published_at if article.published_at_source == "meta" else None


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=0)
)
offsets = st.integers(-12 * 60, 12 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@given(moments, offsets, st.sampled_from(WRITINGS))
def test_a_date_is_the_same_instant_in_a_feed_a_sitemap_and_a_page(moment, offset, writing) -> None:  # type: ignore[no-untyped-def]
    local = moment.astimezone(UTC if "UTC" in writing or "GMT" in writing else offset)
    written = local.strftime(writing)
    in_feed, in_sitemap, on_page = _feed_date(written), _sitemap_date(written), _page_date(written)
    assert in_feed is not None and in_feed.tzinfo == UTC, written
    assert in_feed == in_sitemap == on_page, written


def test_a_month_written_alone_is_its_first_day_everywhere() -> None:
    first = datetime(2024, 3, 1, tzinfo=UTC)
    assert _feed_date("2024-03") == _sitemap_date("2024-03") == _page_date("2024-03") == first


def test_a_language_tag_reads_the_same_in_a_feed_and_on_a_page() -> None:
    for declared, expected in (("fr-FR", "fr"), ("ar_AR", "ar"), ("fr, en", "fr"), ("EN", "en"), ("fr-", "fr")):
        body = {"version": "https://jsonfeed.org/version/1.1", "language": declared, "items": [{"url": "/a"}]}
        feed = parse_feed(json.dumps(body).encode(), FEED_URL, content_type="application/feed+json")
        page = extract_article(france24_page(FR_PARAS, lang=declared), "https://www.france24.com/fr/page")
        assert page is not None
        assert feed.links[0].language == page.language_hint == expected, declared
    for unusable in ("français", "1234", "x"):
        page = extract_article(france24_page(FR_PARAS, lang=unusable), "https://www.france24.com/fr/page")
        assert page is not None and page.language_hint is None, unusable


def test_a_standfirst_cut_short_in_the_page_is_neither_added_again_nor_indexed_twice() -> None:
    standfirst = "L'armée malienne a annoncé lundi la reprise de Kidal…"
    body = "L'armée malienne a annoncé lundi la reprise de Kidal, bastion des rebelles touareg.\nSuite."
    assert with_standfirst(body, standfirst) == body
    assert search_text("Kidal", standfirst, body).count("reprise de kidal") == 1
    other = "Le Niger ferme sa frontière."
    assert with_standfirst(body, other) == f"{other}\n{body}"
    assert search_text("Kidal", other, body).count("niger ferme") == 1
