"""Feed and sitemap discovery: formats, Google News fields, encodings, dates, and hostile documents.

Real cases are read in place from ``../shared/corpus`` (trafilatura's feed and sitemap fixtures,
feedparser's ill-formed, encoding and link test feeds); those tests skip when the corpus is absent.
"""

from __future__ import annotations

import ast
import codecs
import gzip
import json
import re
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sahel_crawler.discovery import (
    ENTITY_REFUSAL,
    DiscoveredLink,
    FeedResult,
    SitemapResult,
    looks_like_feed,
    looks_like_sitemap,
    parse_date,
    parse_feed,
    parse_sitemap,
)
from tests.faults.site import BOMB_PROLOGS as FAULT_PROLOGS
from tests.faults.site import TUNED_ENTITIES

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
TRAFILATURA = CORPUS / "trafilatura-resources"
FEEDPARSER = CORPUS / "feedparser-tests" / "tests"
NO_CORPUS = f"real corpus not found at {CORPUS} (see DESIGN.md: ../shared/corpus next to the repository)"

FEED_URL = "https://www.france24.com/fr/afrique/rss"
SITEMAP_URL = "https://www.france24.com/sitemaps/fr/news.xml"
MB = 1024 * 1024


def _is_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _urls(links: list[DiscoveredLink]) -> list[str]:
    return [link.url for link in links]


def _secret_file(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER\n")
    return secret


def _lol_entities(levels: int = 9) -> str:
    declarations = ['<!ENTITY lol0 "lol">']
    declarations += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return "".join(declarations)


def _peak_memory(function, *args, **kwargs):
    tracemalloc.start()
    try:
        result = function(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------------------------- feeds

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
 <title>France 24 - Afrique</title><link>https://www.france24.com/fr/afrique/</link><language>fr-FR</language>
 <item>
  <title>Mali : la junte annonce un calendrier de transition</title>
  <link>https://www.france24.com/fr/afrique/20240305-mali-junte-calendrier?xtor=RSS-1</link>
  <pubDate>Tue, 05 Mar 2024 10:30:00 +0100</pubDate>
 </item>
 <item>
  <title>Niger : manifestation à Niamey</title>
  <link>/fr/afrique/20240306-niger-niamey</link>
  <pubDate>Wed, 06 Mar 2024 08:00:00 GMT</pubDate>
 </item>
 <item><title>Script</title><link>javascript:alert(1)</link></item>
 <item><title>Copie</title><link>https://www.france24.com/fr/afrique/20240306-niger-niamey</link></item>
 <item><title>Sans lien</title></item>
</channel></rss>"""


def test_rss2_links_titles_dates_and_language():
    result = parse_feed(RSS.encode(), FEED_URL, content_type="application/rss+xml; charset=utf-8")

    assert result.error is None
    assert _urls(result.links) == [
        "https://www.france24.com/fr/afrique/20240305-mali-junte-calendrier?xtor=RSS-1",  # as listed
        "https://www.france24.com/fr/afrique/20240306-niger-niamey",  # relative, resolved; copy dropped
    ]
    first, second = result.links
    assert first.title == "Mali : la junte annonce un calendrier de transition"
    assert first.published_at == datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    assert second.published_at == datetime(2024, 3, 6, 8, 0, tzinfo=UTC)
    assert {link.language for link in result.links} == {"fr"}


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>France 24 - Africa</title>
  <entry>
    <title type="html">Sahel: &lt;b&gt;drought&lt;/b&gt; &amp;amp; displacement</title>
    <link rel="alternate" type="text/html" href="20240307-sahel-drought"/>
    <updated>2024-03-07T12:00:00-05:00</updated>
    <published>2024-03-07T06:00:00Z</published>
  </entry>
  <entry xml:lang="ar">
    <title>منطقة الساحل</title>
    <link href="https://www.france24.com/ar/20240308-%D8%A7%D9%84%D8%B3%D8%A7%D8%AD%D9%84"/>
    <updated>2024-03-08T12:00:00Z</updated>
  </entry>
  <entry>
    <title>Only a self link</title>
    <link rel="self" href="https://www.france24.com/api/entry/3"/>
  </entry>
</feed>"""


def test_atom_links_resolved_html_title_flattened_entry_language():
    result = parse_feed(ATOM.encode(), "https://www.france24.com/en/africa/rss")

    assert result.error is None
    assert _urls(result.links) == [
        "https://www.france24.com/en/africa/20240307-sahel-drought",
        "https://www.france24.com/ar/20240308-%D8%A7%D9%84%D8%B3%D8%A7%D8%AD%D9%84",
    ]
    english, arabic = result.links
    assert english.title == "Sahel: drought & displacement"
    assert english.published_at == datetime(2024, 3, 7, 6, 0, tzinfo=UTC)  # published wins over updated
    assert english.language == "en"
    assert arabic.title == "منطقة الساحل"
    assert arabic.language == "ar"


RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://example.org/rss"><title>Wire</title><link>https://example.org/</link>
    <dc:language>fr</dc:language></channel>
  <item rdf:about="https://example.org/burkina-1">
    <title>Burkina Faso : attaque dans le nord</title>
    <link>https://example.org/burkina-1</link>
    <dc:date>2024-03-09T07:15:00+02:00</dc:date>
  </item>
</rdf:RDF>"""


def test_rdf_rss1():
    result = parse_feed(RDF.encode(), "https://example.org/rss")

    assert result.error is None
    assert result.links == [
        DiscoveredLink(
            url="https://example.org/burkina-1",
            title="Burkina Faso : attaque dans le nord",
            published_at=datetime(2024, 3, 9, 5, 15, tzinfo=UTC),
            language="fr",
        )
    ]


def test_json_feed():
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "language": "ar-AR", "items": ['
        b'{"id": "1", "url": "/ar/20240310-x", "title": "\\u0645\\u0627\\u0644\\u064a",'
        b' "date_published": "2024-03-10T10:00:00+03:00"},'
        b'{"id": "2", "url": "data:text/html,hi"}, "junk"]}'
    )
    result = parse_feed(body, "https://www.france24.com/ar/feed.json", content_type="application/feed+json")

    assert result.error is None
    assert result.links == [
        DiscoveredLink(
            url="https://www.france24.com/ar/20240310-x",
            title="مالي",
            published_at=datetime(2024, 3, 10, 7, 0, tzinfo=UTC),
            language="ar",
        )
    ]


ARABIC_ITEM = "<item><title>{title}</title><link>https://middle-east-online.com/{slug}</link></item>"


def _arabic_rss(declaration: str) -> str:
    title = "الجيش المالي يعلن السيطرة على كيدال"
    item = ARABIC_ITEM.format(title=title, slug="%D9%85%D8%A7%D9%84%D9%8A")
    return f'{declaration}<rss version="2.0"><channel><title>ميدل ايست أونلاين</title>{item}</channel></rss>'


def test_utf16_feed_with_bom():
    body = _arabic_rss('<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16")

    result = parse_feed(body, "https://middle-east-online.com/rss.xml", content_type="application/rss+xml")

    assert [link.title for link in result.links] == ["الجيش المالي يعلن السيطرة على كيدال"]
    assert result.links[0].url == "https://middle-east-online.com/%D9%85%D8%A7%D9%84%D9%8A"


def test_windows_1256_feed_decoded_with_http_charset():
    body = _arabic_rss("").encode("windows-1256")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # the charset really matters for this body

    result = parse_feed(
        body, "https://middle-east-online.com/rss.xml", content_type="application/rss+xml; charset=windows-1256"
    )

    assert [link.title for link in result.links] == ["الجيش المالي يعلن السيطرة على كيدال"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<!doctype html><html><body><a href='/x'>x</a></body></html>", "not a feed"),
        (b"\x00\xff\xfe garbage \x01", "not a feed"),
        (b'{"not": "a feed"}', "not a feed"),
    ],
)
def test_unusable_feed_reports_reason(body, reason):
    result = parse_feed(body, FEED_URL, content_type="application/json" if body.startswith(b"{") else None)

    assert result.links == []
    assert reason in result.error


def test_truncated_feed_keeps_complete_items_and_reports():
    body = RSS.encode()
    body = body[: body.index(b"<item><title>Script")] + b"<item><title>Cut off"

    result = parse_feed(body, FEED_URL)

    assert len(result.links) == 2
    assert "malformed XML" in result.error


@pytest.mark.parametrize("one_line", [True, False], ids=["one-line-prolog", "multi-line-prolog"])
def test_feed_xxe_not_resolved(tmp_path, one_line):
    secret = _secret_file(tmp_path)
    sep = "" if one_line else "\n"
    body = (
        f'<?xml version="1.0"?>{sep}<!DOCTYPE rss [{sep}<!ENTITY xxe SYSTEM "file://{secret}">{sep}]>{sep}'
        '<rss version="2.0"><channel><item><title>t &xxe;</title>'
        "<link>https://example.org/a?&xxe;</link></item></channel></rss>"
    ).encode()

    result = parse_feed(body, FEED_URL)

    assert "TOP-SECRET" not in repr(result)
    assert all(_is_http(url) for url in _urls(result.links))


@pytest.mark.parametrize("one_line", [True, False], ids=["one-line-prolog", "multi-line-prolog"])
def test_feed_billion_laughs_not_expanded(one_line):
    sep = "" if one_line else "\n"
    body = (
        f'<?xml version="1.0"?>{sep}<!DOCTYPE rss [{sep}{_lol_entities()}{sep}]>{sep}'
        '<rss version="2.0"><channel><item><title>&lol9;</title>'
        "<link>https://example.org/lol</link></item></channel></rss>"
    ).encode()

    result, peak = _peak_memory(parse_feed, body, FEED_URL)

    assert (result.links, result.error) == ([], ENTITY_REFUSAL)
    assert peak < 5 * MB  # expanded, &lol9; alone is 3 GB; expat's own limit still costs ~50 MB


def _tuned_bomb(root: str, body: str, before_doctype: str) -> bytes:
    """A document whose entities expand to 7 million characters, `before_doctype` in its prolog."""
    return f'<?xml version="1.0"?>{before_doctype}<!DOCTYPE {root} [{TUNED_ENTITIES}]>{body}'.encode()


# What got a DOCTYPE past the prolog scan, and a processing instruction as long; and UTF-16 below.
BOMB_PROLOGS = {**FAULT_PROLOGS, "70-kb-processing-instruction": "<?pad " + "p" * 70_000 + "?>"}
BOMB_FEED = (
    '<rss version="2.0"><channel><item><title>&a4;</title><link>https://example.org/a</link></item></channel></rss>'
)
BOMB_SITEMAP = (
    '<urlset xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://example.org/a</loc>'
    "<news:news><news:title>&a4;</news:title></news:news></url></urlset>"
)


@pytest.mark.parametrize("utf16", [False, True], ids=["utf8", "utf16"])
@pytest.mark.parametrize("prolog", BOMB_PROLOGS.values(), ids=BOMB_PROLOGS.keys())
def test_feed_entity_bomb_refused_whatever_stands_before_its_doctype(prolog, utf16):
    body = _tuned_bomb("rss", BOMB_FEED, prolog)
    if utf16:
        body = codecs.BOM_UTF16_LE + body.decode().replace('"1.0"?>', '"1.0" encoding="utf-16"?>').encode("utf-16-le")

    result, peak = _peak_memory(parse_feed, body, FEED_URL)

    assert (result.links, result.error) == ([], ENTITY_REFUSAL)
    assert peak < 5 * MB


@pytest.mark.parametrize("prolog", BOMB_PROLOGS.values(), ids=BOMB_PROLOGS.keys())
def test_sitemap_entity_bomb_refused_whatever_stands_before_its_doctype(prolog):
    result, peak = _peak_memory(parse_sitemap, _tuned_bomb("urlset", BOMB_SITEMAP, prolog), SITEMAP_URL)

    assert (result.kind, result.links, result.error) == ("invalid", [], ENTITY_REFUSAL)
    assert peak < 5 * MB


def test_entity_declaration_quoted_in_a_comment_or_cdata_is_no_refusal():
    body = RSS.replace("<channel>", "<channel><!-- <!ENTITY x 'y'> --><description><![CDATA[<!ENTITY>]]></description>")

    result = parse_feed(body.encode(), FEED_URL)

    assert result.error is None and result.links


def test_feed_body_naming_a_local_file_is_not_opened(tmp_path):
    local = tmp_path / "feed.xml"
    local.write_text(RSS)

    result = parse_feed(str(local).encode(), FEED_URL)

    assert result.links == []
    assert result.error


FEED_SCHEMES = """<rss version="2.0"><channel>{}</channel></rss>"""


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd", "ftp://example.org/a", "mailto:a@b.c"],
)
def test_only_http_links_survive(link):
    feed = FEED_SCHEMES.format(f"<item><link>{link}</link></item><item><link>/ok</link></item>").encode()
    sitemap = f"<urlset><url><loc>{link}</loc></url><url><loc>/ok</loc></url></urlset>".encode()

    assert _urls(parse_feed(feed, FEED_URL).links) == ["https://www.france24.com/ok"]
    assert _urls(parse_sitemap(sitemap, SITEMAP_URL).links) == ["https://www.france24.com/ok"]


def test_looks_like_feed_and_sitemap():
    sitemap = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>'
    assert looks_like_feed(RSS.encode(), None)
    assert looks_like_feed(ATOM.encode("utf-16"), None)
    assert looks_like_feed(b"whatever", "application/atom+xml")
    assert not looks_like_feed(sitemap, "text/xml")
    assert looks_like_sitemap(sitemap, "text/xml")
    assert looks_like_sitemap(gzip.compress(sitemap), "application/x-gzip")
    assert not looks_like_sitemap(RSS.encode(), "application/rss+xml")


# --------------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue, 05 Mar 2024 10:30:00 +0100", datetime(2024, 3, 5, 9, 30, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 10:30:00 GMT", datetime(2024, 3, 5, 10, 30, tzinfo=UTC)),
        ("05 Mar 2024 10:30 -0500", datetime(2024, 3, 5, 15, 30, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 10:30:00", datetime(2024, 3, 5, 10, 30, tzinfo=UTC)),  # no zone: UTC
        ("2024-03-05T10:30:00Z", datetime(2024, 3, 5, 10, 30, tzinfo=UTC)),
        ("2024-03-05t10:30:00z", datetime(2024, 3, 5, 10, 30, tzinfo=UTC)),
        ("2024-03-05T10:30:00.123456789+03:00", datetime(2024, 3, 5, 7, 30, 0, 123456, tzinfo=UTC)),
        ("2024-03-05T10:30+0100", datetime(2024, 3, 5, 9, 30, tzinfo=UTC)),
        ("2024-03-05 10:30:00", datetime(2024, 3, 5, 10, 30, tzinfo=UTC)),  # no zone: UTC
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        ("2024-03", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024", datetime(2024, 1, 1, tzinfo=UTC)),
        ("  2024-03-05T10:30:00Z\n", datetime(2024, 3, 5, 10, 30, tzinfo=UTC)),
    ],
)
def test_dates_to_utc(text, expected):
    parsed = parse_date(text, utc=True)

    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-30",
        "2024-13-01T00:00:00Z",
        "2024-03-05T25:00:00Z",
        "Fri, 31 Feb 2024 10:00:00 GMT",
        "Tue, 05 Mar 2024 10:61:00 GMT",
        "0000-01-01",
        "yesterday",
        "",
        None,
    ],
)
def test_impossible_dates_give_none(text):
    assert parse_date(text, utc=True) is None


def test_impossible_dates_in_documents_give_none_not_failure():
    feed = FEED_SCHEMES.format("<item><link>/a</link><pubDate>Fri, 31 Feb 2024 10:00:00 GMT</pubDate></item>").encode()
    sitemap = b"<urlset><url><loc>/a</loc><lastmod>2024-02-30</lastmod></url></urlset>"

    assert [link.published_at for link in parse_feed(feed, FEED_URL).links] == [None]
    assert [link.published_at for link in parse_sitemap(sitemap, SITEMAP_URL).links] == [None]


aware_datetimes = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
).flatmap(
    lambda moment: st.integers(-14 * 60, 14 * 60).map(
        lambda minutes: moment.replace(microsecond=0).astimezone(timezone(timedelta(minutes=minutes)))
    )
)


@given(aware_datetimes)
def test_iso_and_rfc822_round_trip_to_the_same_utc_instant(moment):
    for text in (moment.isoformat(), format_datetime(moment)):
        parsed = parse_date(text, utc=True)
        assert parsed == moment
        assert parsed.tzinfo == UTC


@given(st.text(max_size=60))
def test_parse_date_never_raises_and_is_utc(text):
    parsed = parse_date(text, utc=True)
    assert parsed is None or parsed.tzinfo == UTC


# -------------------------------------------------------------------------------------------- sitemaps

NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://www.france24.com/fr/afrique/20240305-mali-junte</loc>
    <lastmod>2024-03-06T00:00:00Z</lastmod>
    <news:news>
      <news:publication><news:name>France 24</news:name><news:language>fr</news:language></news:publication>
      <news:publication_date>2024-03-05T10:30:00+01:00</news:publication_date>
      <news:title>Mali : la junte annonce un calendrier</news:title>
    </news:news>
    <image:image><image:loc>https://s.france24.com/media/photo.jpg</image:loc></image:image>
  </url>
  <url>
    <loc>/ar/20240306-%D9%85%D8%A7%D9%84%D9%8A</loc>
    <lastmod>2024-03-06T08:00:00+03:00</lastmod>
    <news:news>
      <news:publication><news:name>France 24</news:name><news:language>ar</news:language></news:publication>
      <news:title>مالي: المجلس العسكري</news:title>
    </news:news>
  </url>
</urlset>"""


def test_google_news_fields_kept():
    result = parse_sitemap(NEWS_SITEMAP.encode(), SITEMAP_URL)

    assert result.kind == "urlset"
    assert result.error is None
    assert result.sitemaps == []
    assert result.links == [
        DiscoveredLink(
            url="https://www.france24.com/fr/afrique/20240305-mali-junte",
            title="Mali : la junte annonce un calendrier",
            published_at=datetime(2024, 3, 5, 9, 30, tzinfo=UTC),  # publication_date wins over lastmod
            language="fr",
        ),
        DiscoveredLink(
            url="https://www.france24.com/ar/20240306-%D9%85%D8%A7%D9%84%D9%8A",  # resolved
            title="مالي: المجلس العسكري",
            published_at=datetime(2024, 3, 6, 5, 0, tzinfo=UTC),  # lastmod as the fallback
            language="ar",
        ),
    ]


@pytest.mark.parametrize(
    "variant",
    ["no-namespaces", "old-news-namespace", "undeclared-prefix"],
)
def test_namespaces_are_matched_leniently(variant):
    body = NEWS_SITEMAP
    if variant == "no-namespaces":
        body = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", body).replace("news:", "").replace("image:", "")
    elif variant == "old-news-namespace":
        body = body.replace("sitemap-news/0.9", "sitemap-news/0.84")
    else:
        body = re.sub(r'\s+xmlns:news="[^"]*"', "", body)

    result = parse_sitemap(body.encode(), SITEMAP_URL)

    assert result.links == parse_sitemap(NEWS_SITEMAP.encode(), SITEMAP_URL).links


def test_sitemap_index_lists_child_sitemaps():
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
    <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://www.france24.com/sitemaps/fr/news-1.xml</loc><lastmod>2024-03-05</lastmod></sitemap>
      <sitemap><loc><![CDATA[/sitemaps/fr/news-2.xml.gz]]></loc></sitemap>
      <sitemap><loc>file:///etc/passwd</loc></sitemap>
    </sitemapindex>"""

    result = parse_sitemap(body, SITEMAP_URL)

    assert result.kind == "sitemapindex"
    assert result.links == []
    assert result.sitemaps == [
        "https://www.france24.com/sitemaps/fr/news-1.xml",
        "https://www.france24.com/sitemaps/fr/news-2.xml.gz",
    ]


def test_gzipped_sitemap_equals_plain():
    result = parse_sitemap(gzip.compress(NEWS_SITEMAP.encode()), SITEMAP_URL + ".gz")

    assert result == parse_sitemap(NEWS_SITEMAP.encode(), SITEMAP_URL + ".gz")


def test_truncated_gzip_keeps_complete_entries():
    packed = gzip.compress(NEWS_SITEMAP.encode())

    result = parse_sitemap(packed[: len(packed) * 3 // 4], SITEMAP_URL)

    assert "gzip" in result.error
    assert _urls(result.links) == _urls(parse_sitemap(NEWS_SITEMAP.encode(), SITEMAP_URL).links)[: len(result.links)]


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """200 MB of zeros, gzipped to about 200 kB."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    return b"".join([*(packer.compress(zeros) for _ in range(200)), packer.flush()])


def test_gzip_bomb_refused_with_bounded_memory(gzip_bomb):
    assert len(gzip_bomb) < MB

    result, peak = _peak_memory(parse_sitemap, gzip_bomb, SITEMAP_URL)

    assert result.kind == "invalid"
    assert result.links == [] and result.sitemaps == []
    assert "gzip" in result.error
    assert peak < 60 * MB  # the 50 MB cap, not the 200 MB the bomb expands to


def test_gzip_cap_is_configurable(gzip_bomb):
    result, peak = _peak_memory(parse_sitemap, gzip_bomb, SITEMAP_URL, max_bytes=MB)

    assert result.kind == "invalid"
    assert peak < 4 * MB


def test_sitemap_xxe_refused(tmp_path):
    secret = _secret_file(tmp_path)
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        "<urlset><url><loc>https://example.org/&xxe;</loc><news:title>&xxe;</news:title></url></urlset>"
    ).encode()

    result = parse_sitemap(body, SITEMAP_URL)

    assert "TOP-SECRET" not in repr(result)
    assert result.kind == "invalid"
    assert "entit" in result.error


def test_sitemap_billion_laughs_not_expanded():
    body = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [{_lol_entities()}]>'
        "<urlset><url><loc>https://example.org/&lol9;</loc></url></urlset>"
    ).encode()

    result, peak = _peak_memory(parse_sitemap, body, SITEMAP_URL)

    assert result.kind == "invalid"
    assert "lollol" not in repr(result)
    assert peak < 5 * MB


def _urlset(count: int, start: int = 0) -> bytes:
    entries = "".join(f"<url><loc>https://example.org/a/{n}</loc></url>" for n in range(start, start + count))
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode()


@pytest.mark.parametrize("cut", ["in-loc", "in-end-tag", "before-root-end"])
def test_truncated_sitemap_recovers_complete_entries(cut):
    whole = _urlset(5)
    marker = {
        "in-loc": b"https://example.org/a/4",
        "in-end-tag": b"</url></urlset>",
        "before-root-end": b"</urlset>",
    }[cut]
    end = whole.index(marker) + {"in-loc": 15, "in-end-tag": 3, "before-root-end": 0}[cut]

    result = parse_sitemap(whole[:end], SITEMAP_URL)

    expected = 5 if cut == "before-root-end" else 4
    assert _urls(result.links) == [f"https://example.org/a/{n}" for n in range(expected)]
    assert "malformed XML" in result.error


def test_damage_mid_document_keeps_entries_on_both_sides():
    body = _urlset(3).replace(
        b"</url><url><loc>https://example.org/a/1",
        b"</url><url><loc>\x01bad</loc></url><url><loc>https://example.org/a/1",
    )

    result = parse_sitemap(body, SITEMAP_URL)

    assert _urls(result.links)[-2:] == ["https://example.org/a/1", "https://example.org/a/2"]
    assert "malformed XML" in result.error


def test_sitemap_over_the_url_cap_is_truncated_with_a_note():
    result = parse_sitemap(_urlset(60_000), SITEMAP_URL)

    assert result.kind == "urlset"
    assert len(result.links) == 50_000
    assert result.links[-1].url == "https://example.org/a/49999"
    assert "truncated at 50000" in result.error


def test_sitemap_at_the_cap_is_not_flagged():
    result = parse_sitemap(_urlset(10), SITEMAP_URL, max_urls=10)

    assert len(result.links) == 10
    assert result.error is None


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        ("/fr/20240305-a", "https://www.france24.com/fr/20240305-a"),
        ("20240305-a", "https://www.france24.com/sitemaps/fr/20240305-a"),
        ("//cdn.france24.com/x", "https://cdn.france24.com/x"),
        ("  \n https://www.france24.com/en/x?a=1&amp;b=2 \n", "https://www.france24.com/en/x?a=1&b=2"),
        (
            "https://www.france24.com/en/x?a=1&b=2&utm_source=rss",
            "https://www.france24.com/en/x?a=1&b=2&utm_source=rss",
        ),
    ],
)
def test_sitemap_locations_resolved_and_bare_ampersands_kept(loc, expected):
    result = parse_sitemap(f"<urlset><url><loc>{loc}</loc></url></urlset>".encode(), SITEMAP_URL)

    assert _urls(result.links) == [expected]
    assert result.error is None


@pytest.mark.parametrize(
    "prefix", [b"\n\n  ", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n"], ids=["whitespace", "bom", "bom-and-newline"]
)
def test_sloppy_prolog_accepted(prefix):
    result = parse_sitemap(prefix + b'<?xml version="1.0" encoding="UTF-8"?>' + _urlset(2), SITEMAP_URL)

    assert len(result.links) == 2
    assert result.error is None


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])  # with a BOM, then without
def test_utf16_sitemap(encoding):
    body = ('<?xml version="1.0" encoding="UTF-16"?>' + NEWS_SITEMAP.split("?>", 1)[1]).encode(encoding)

    result = parse_sitemap(body, SITEMAP_URL)

    assert result.links == parse_sitemap(NEWS_SITEMAP.encode(), SITEMAP_URL).links
    assert result.error is None  # a valid document: nothing to record in crawl_errors


def test_plain_text_sitemap():
    body = b"https://example.org/a\n\nhttps://example.org/b\r\nnot a url\njavascript:alert(1)\n"

    result = parse_sitemap(body, SITEMAP_URL)

    assert result.kind == "urlset"
    assert _urls(result.links) == ["https://example.org/a", "https://example.org/b"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"<html><body><a href='https://example.org/x'>x</a></body></html>", "not a sitemap"),
        (RSS.encode(), "not a sitemap"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
        (b"\x00\x01\x02\x03", "not a sitemap"),
    ],
)
def test_unusable_sitemap_reports_reason(body, reason):
    result = parse_sitemap(body, SITEMAP_URL)

    assert result.kind == "invalid"
    assert result.links == [] and result.sitemaps == []
    assert reason in result.error


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 2000))
@example(noise=b"![", position=263)  # a sitemap <loc> of https://![www.france24.com/...
def test_mangled_documents_never_raise(noise, position):
    for document, parse, result_type in (
        (RSS.encode(), parse_feed, FeedResult),
        (NEWS_SITEMAP.encode(), parse_sitemap, SitemapResult),
    ):
        mangled = document[:position] + noise + document[position:]
        result = parse(mangled, FEED_URL)
        assert isinstance(result, result_type)
        assert all(_is_http(url) for url in _urls(result.links))


# ------------------------------------------------------------------------------ real fixtures: trafilatura

needs_trafilatura = pytest.mark.skipif(not TRAFILATURA.is_dir(), reason=NO_CORPUS)


def _locs(xml: bytes) -> list[str]:
    """Independent reading of <loc> values: a regex, CDATA unwrapped."""
    values = re.findall(rb"<loc>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</loc>", xml, re.DOTALL)
    return [value.decode() for value in values]


@needs_trafilatura
def test_real_sitemap_and_its_gzip_twin():
    plain = (TRAFILATURA / "sitemap.xml").read_bytes()

    result = parse_sitemap(plain, "https://www.sitemaps.org/sitemap.xml")
    packed = parse_sitemap((TRAFILATURA / "sitemap.xml.gz").read_bytes(), "https://www.sitemaps.org/sitemap.xml.gz")

    assert result.kind == "urlset" and result.error is None
    assert _urls(result.links) == list(dict.fromkeys(_locs(plain)))
    assert all(link.published_at.tzinfo == UTC for link in result.links)
    assert _urls(packed.links) == _urls(result.links)


@needs_trafilatura
def test_real_sitemap_index():
    body = (TRAFILATURA / "sitemap2.xml").read_bytes()

    result = parse_sitemap(body, "http://www.example.com/sitemap.xml")

    assert result.kind == "sitemapindex" and result.error is None
    assert result.sitemaps == _locs(body)


@needs_trafilatura
def test_real_hreflang_sitemap_keeps_pages_not_alternates():
    body = (TRAFILATURA / "sitemap-hreflang.xml").read_bytes()

    result = parse_sitemap(body, "http://www.example.com/sitemap.xml")

    assert result.kind == "urlset"
    assert set(_urls(result.links)) | set(result.sitemaps) == set(_locs(body))
    assert "http://www.example.com/sitemap-de.xml.gz" not in result.sitemaps  # an xhtml:link alternate


@needs_trafilatura
@pytest.mark.parametrize("name", ["feed1.atom", "feed2.rss", "feed.json"])
def test_real_feeds(name):
    body = (TRAFILATURA / name).read_bytes()
    reference = feedparser.parse(body) if name != "feed.json" else None

    result = parse_feed(body, "https://example.org/feed")

    assert result.error is None
    assert result.links
    assert all(_is_http(url) and link.title for url, link in zip(_urls(result.links), result.links, strict=True))
    if reference is not None:  # every entry with an alternate link is listed
        assert _urls(result.links) == [entry.link for entry in reference.entries if _is_http(entry.get("link", ""))]
    else:
        assert len(result.links) == sum(1 for item in json.loads(body)["items"] if "url" in item)


# -------------------------------------------------------------------------- real fixtures: feedparser tests


def _feedparser_cases(*folders: str, expect: str | None = None) -> list:
    if not FEEDPARSER.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=NO_CORPUS))]
    paths = sorted(path for folder in folders for path in (FEEDPARSER / folder).rglob("*.xml"))
    if expect:
        paths = [path for path in paths if re.search(expect, _header(path.read_bytes(), "Expect") or "")]
    return [pytest.param(path, id=str(path.relative_to(FEEDPARSER))) for path in paths]


def _header(body: bytes, name: str) -> str | None:
    match = re.search(rb"^\s*" + name.encode() + rb":\s*(.*?)\s*$", body[:2000], re.MULTILINE | re.IGNORECASE)
    return match[1].decode("latin-1") if match else None


def _http_headers(body: bytes) -> dict[str, str]:
    headers = {}
    for line in re.findall(rb"^\s*Header:\s*(.*?)\s*$", body[:2000], re.MULTILINE):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def _expected_first_link(body: bytes) -> str | None:
    link = r"entries\[\d\](?:\['link'\]|\.link)\s*==\s*"
    match = re.search(f"(?:{link})+('[^']*')", _header(body, "Expect") or "")
    return ast.literal_eval(match[1]) if match else None


LINK_EXPECTATION = r"entries\[0\](\['link'\]|\.link) =="


@pytest.mark.parametrize("path", _feedparser_cases("illformed", "encoding"))
def test_feedparser_illformed_and_encoding_cases(path):
    body = path.read_bytes()
    headers = _http_headers(body)
    reference = feedparser.parse(body, response_headers=headers, sanitize_html=False)

    result = parse_feed(body, "http://example.com/feed.xml", content_type=headers.get("content-type"))

    assert isinstance(result, FeedResult)
    assert all(_is_http(url) for url in _urls(result.links))
    # the entries feedparser itself finds with an http(s) link all come through
    listed = [entry.link for entry in reference.entries if _is_http(entry.get("link") or "")]
    assert _urls(result.links) == list(dict.fromkeys(listed))
    expected = _expected_first_link(body)
    if expected is not None:
        assert result.links[0].url == expected


@pytest.mark.parametrize("path", _feedparser_cases("wellformed", expect=LINK_EXPECTATION))
def test_feedparser_link_expectations(path):
    body = path.read_bytes()
    headers = _http_headers(body)
    # feedparser's suite serves these files from a local server; Content-Location sets the base
    served_at = f"http://127.0.0.1:8097/tests/{path.relative_to(FEEDPARSER)}"

    result = parse_feed(body, headers.get("content-location", served_at), content_type=headers.get("content-type"))

    assert result.links[0].url == _expected_first_link(body)


@pytest.mark.parametrize(
    "bad", ["https://www.france24.com:abc/fr/a", "https://www.france24.com:99999/fr/a", "https://[garbage]/fr/a",
            "https://![www.france24.com/fr/a"],
)  # fmt: skip
def test_a_listed_url_scrapy_would_refuse_is_skipped_and_the_rest_kept(bad):
    locs = ["https://www.france24.com/fr/1", bad, "https://www.france24.com/fr/2"]
    body = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    body += "".join(f"<url><loc>{loc}</loc></url>" for loc in locs) + "</urlset>"
    result = parse_sitemap(body.encode(), SITEMAP_URL)
    assert _urls(result.links) == [locs[0], locs[2]]


def _rss_items(count: int) -> bytes:
    items = "".join(f"<item><title>t{i}</title><link>https://example.org/a/{i}</link></item>" for i in range(count))
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()


def _atom_entries(count: int) -> bytes:
    entries = "".join(
        f'<entry><title>t{i}</title><link href="https://example.org/a/{i}"/></entry>' for i in range(count)
    )
    return f'<feed xmlns="http://www.w3.org/2005/Atom">{entries}</feed>'.encode()


def _json_items(count: int) -> bytes:
    items = [{"url": f"https://example.org/a/{i}"} for i in range(count)]
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()


@pytest.mark.parametrize("build", [_rss_items, _atom_entries, _json_items], ids=["rss", "atom", "json"])
def test_feed_over_the_link_cap_gives_the_first_entries_and_says_so(build):
    result = parse_feed(build(150), FEED_URL, max_links=100)

    assert _urls(result.links) == [f"https://example.org/a/{i}" for i in range(100)]
    assert result.error == "truncated at 100 entries (the feed lists more)"


@pytest.mark.parametrize("build", [_rss_items, _atom_entries, _json_items], ids=["rss", "atom", "json"])
def test_feed_at_the_link_cap_is_whole_without_a_note(build):
    result = parse_feed(build(100), FEED_URL, max_links=100)

    assert len(result.links) == 100 and result.error is None
