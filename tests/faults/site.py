"""The fault site: good article pages beside every fault, on three loopback servers, with what a
correct crawl does with each (stored, reported with a kind, counted as no text, never requested).

- `main` (127.0.0.1) is outlet "faulty": a section page, feeds and sitemaps linking good pages
  and faults. Its `hosts` also name aliases of this machine ("vm"-style host name, "localhost.",
  "2130706433") so that only the internal-address middleware stands between them and a request.
- `robots_down` (127.0.0.2) is outlet "robotsdown", whose robots.txt answers 503.
- `elsewhere` (127.0.0.3) belongs to no outlet: the target of an off-site redirect.
"""

from __future__ import annotations

import codecs
import socket
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlsplit

from tests.faults import resources as r
from tests.faults.server import Exchange, FaultServer
from tests.faults.texts import arabic_paragraphs, french_paragraphs

DAY = "/2026/11/19/"
BOMB_SIZE = 64 * 1024 * 1024  # decoded; DOWNLOAD_MAXSIZE is 10 MB
OVERSIZE = 40 * 1024 * 1024
BIG_SITEMAP_URLS = 50_001
LINK_CAP = 10_000  # SAHEL_MAX_LINKS_PER_DOCUMENT of the test crawl
REFUSALS = frozenset({"internal", "offsite"})  # refused before any connection is made
# Entity declarations expanding &a4; to 7 million characters: under expat's amplification limit
# (it only starts counting past 8 MB), so expat alone would expand them all.
TUNED_ENTITIES = (
    '<!ENTITY a0 "' + "x" * 700 + '">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 5))
)
# What once hid a DOCTYPE from a prolog scan: a comment holding "<a" (taken for the first element),
# a prolog longer than the 64 KB looked at.
BOMB_PROLOGS = {
    "comment-before-doctype": "<!-- <a href='/'>home</a> -->",
    "70-kb-prolog": "<!--" + "p" * 70_000 + "-->",
}
NON_HTTP_REDIRECTS = (
    "file:///etc/passwd",
    "data:text/html,<p>injected</p>",
    "ftp://127.0.0.1/x",
    "gopher://127.0.0.1:6379/_INFO",
)


@dataclass
class FaultSite:
    """What the servers serve and what a correct crawl makes of it."""

    sources: dict[str, object]
    good: dict[str, str] = field(default_factory=dict)  # url -> a phrase its stored text holds
    failures: dict[str, frozenset[str]] = field(default_factory=dict)  # url -> acceptable kinds
    no_text: list[str] = field(default_factory=list)  # fetched, counted as no text, not stored
    never_requested: list[str] = field(default_factory=list)  # paths on `main` nothing may reach
    long_titles: list[str] = field(default_factory=list)  # stored with a title cut to its cap
    with_controls: list[str] = field(default_factory=list)  # a control character in the body, stored
    robots_failure: str = ""  # robots.txt URL of `robots_down`, recorded with kind "robots"


def article_html(title: str, paragraphs: list[str], lang: str, meta_charset: str | None = "utf-8") -> str:
    """An article page in the shape of a news site: navigation, headline, dated body, footer."""
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    direction = ' dir="rtl"' if lang == "ar" else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"{direction}><head>{meta}<title>{escape(title)}</title></head><body>'
        '<header><nav><a href="/">Accueil</a> <a href="/section/">Afrique</a></nav></header>'
        f'<main><article><h1>{escape(title)}</h1><time datetime="2026-11-19T08:00:00Z">19/11/2026</time>'
        f"{body}</article></main><footer>Tous droits réservés</footer></body></html>"
    )


def rss(items: list[tuple[str, str]], encoding: str = "utf-8", prolog: str = "") -> str:
    """An RSS 2.0 feed of (title, link) items; titles are XML as written (entities stay entities)."""
    entries = "".join(
        f"<item><title>{t}</title><link>{escape(u)}</link><pubDate>Thu, 19 Nov 2026 08:00:00 GMT</pubDate></item>"
        for t, u in items
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>{prolog}<rss version="2.0"><channel><title>Faulty</title>'
        f"<link>http://faulty.invalid/</link><description>feed</description>{entries}</channel></rss>"
    )


def urlset(urls: list[str]) -> str:
    """A sitemap urlset of `urls`."""
    locs = "".join(f"<url><loc>{escape(u)}</loc></url>\n" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{locs}</urlset>'


def build_fault_site(main: FaultServer, robots_down: FaultServer, elsewhere: FaultServer) -> FaultSite:
    """Add every route to the three servers; return the registry and the expectations."""
    port = urlsplit(main.base_url).port
    aliases = {"hostname": socket.gethostname(), "localhost-dot": "localhost.", "decimal": "2130706433"}
    site = FaultSite(sources={})
    main.add("/robots.txt", r.static(b"User-agent: *\nDisallow: /private/\n", "text/plain"))
    section_links: list[str] = []
    seed = iter(range(1, 10_000))

    def good(slug: str, *, lang: str = "fr", link: bool = True, route=None, encode=None) -> str:
        """A good French or Arabic article; `encode(html) -> route` serves it in an unusual way."""
        paragraphs = (arabic_paragraphs if lang == "ar" else french_paragraphs)(next(seed))
        title = f"{slug.replace('-', ' ')} {paragraphs[0][:40]}"
        html = article_html(title, paragraphs, lang)
        url = main.add(DAY + slug, route or (encode(html) if encode else r.static(html.encode())))
        site.good[url] = paragraphs[2]
        if link:
            section_links.append(url)
        return url

    def fault(slug: str, route, kinds: frozenset[str] | str) -> str:
        url = main.add(DAY + slug, route)
        site.failures[url] = frozenset([kinds]) if isinstance(kinds, str) else kinds
        section_links.append(url)
        return url

    # -- good pages, some served awkwardly --------------------------------------------------
    cookie = (("Set-Cookie", "session=s3cr3t; Path=/"),)
    first = good("plain-article-that-sets-a-cookie", encode=lambda h: r.static(h.encode(), headers=cookie))
    for n in range(2, 6):
        good(f"plain-article-number-{n}-from-the-wire")
    good("served-after-one-429-with-retry-after",
         encode=lambda h: r.flaky([(429, (("Retry-After", "1"),))], r.static(h.encode())))  # fmt: skip
    good("served-after-one-503-server-error", encode=lambda h: r.flaky([(503, ())], r.static(h.encode())))
    good("arabic-bom-disagrees-with-the-header", lang="ar",
         encode=lambda h: r.static(codecs.BOM_UTF8 + h.replace('<meta charset="utf-8">', "").encode(),
                                   "text/html; charset=windows-1256"))  # fmt: skip
    good("arabic-windows-1256-declared-in-meta-only", lang="ar",
         encode=lambda h: r.static(h.replace('charset="utf-8"', 'charset="windows-1256"').encode("cp1256"),
                                   "text/html"))  # fmt: skip
    good("arabic-windows-1256-under-a-wrong-utf8-header", lang="ar",
         encode=lambda h: r.static(h.replace('charset="utf-8"', 'charset="windows-1256"').encode("cp1256"),
                                   "text/html; charset=utf-8"))  # fmt: skip
    good("french-utf8-with-no-charset-anywhere",
         encode=lambda h: r.static(h.replace('<meta charset="utf-8">', "").encode(), "text/html"))  # fmt: skip
    # Nothing declares a charset and the bytes are not UTF-8: a guess among every encoding took
    # these for cp1250 and Urdu; the crawl guesses among its languages' encodings.
    good("french-latin-1-with-no-charset-anywhere",
         encode=lambda h: r.static(h.replace('<meta charset="utf-8">', "").encode("latin-1"), "text/html"))  # fmt: skip
    good("arabic-windows-1256-with-no-charset-anywhere", lang="ar",
         encode=lambda h: r.static(h.replace('<meta charset="utf-8">', "").encode("cp1256"), "text/html"))  # fmt: skip
    good("arabic-windows-1256-under-a-lying-utf8-meta", lang="ar",
         encode=lambda h: r.static(h.encode("cp1256"), "text/html"))  # fmt: skip
    long_title = good("headline-of-fifty-thousand-characters",
                      encode=lambda h: r.static(h.replace("<h1>", "<h1>" + "Titre " * 8_000).encode()))  # fmt: skip
    site.long_titles.append(long_title)
    for code in ("&#27;", "&#x1;", "&#xFFFE;", "\x1b"):
        url = good(f"control-character-{len(site.with_controls)}-in-the-first-paragraph",
                   encode=lambda h, c=code: r.static(h.replace("</p>", f"{c}</p>", 1).encode()))  # fmt: skip
        site.with_controls.append(url)
    good("french-utf8-under-an-unknown-charset-name",
         encode=lambda h: r.static(h.encode(), "text/html; charset=x-no-such-charset"))  # fmt: skip

    # -- faults on article pages ------------------------------------------------------------
    filler = article_html("Lent", french_paragraphs(9_001), "fr").encode()
    fault("slow-first-byte-never-answers", r.slow_first_byte(), "timeout")
    fault("drip-one-byte-per-second", r.drip(filler[:200]), "timeout")
    fault("connection-reset-mid-body", r.reset_mid_body(filler * 20), frozenset({"download", "truncated"}))
    fault("broken-chunked-encoding", r.broken_chunked(filler), frozenset({"download", "truncated"}))
    for encoding, name in (("gzip", "gzip"), ("deflate", "deflate"), ("br", "brotli")):
        fault(f"{name}-bomb-expanding-to-64-mb", r.compressed_bomb(encoding, BOMB_SIZE), "too_large")
    fault("oversize-page-announced-by-content-length", r.oversize_declared(OVERSIZE), "too_large")
    fault("oversize-page-streamed-without-length", r.oversize_streamed(OVERSIZE), "too_large")
    fault("header-section-without-end", r.endless_headers(1000), "too_large")
    fault("header-lines-without-end", r.endless_headers(1), "too_large")

    def hop(ex: Exchange) -> None:
        n = int(urlsplit(ex.path).query.partition("=")[2] or 0)
        r.redirect(f"{DAY}redirect-loop-without-end?hop={n + 1}")(ex)

    fault("redirect-loop-without-end", hop, "redirect")
    main.add(DAY + "redirect-cycle-partner-page", r.redirect(f"{DAY}redirect-cycle-between-two-pages"))
    fault("redirect-cycle-between-two-pages", r.redirect(f"{DAY}redirect-cycle-partner-page"), "redirect")
    fault("redirect-to-a-host-of-no-outlet", r.redirect(elsewhere.url("/stolen")), REFUSALS)
    fault("redirect-to-cloud-metadata-address", r.redirect("http://169.254.169.254/latest/meta-data/"), REFUSALS)
    fault("redirect-to-private-network-address", r.redirect("http://10.0.0.1/admin"), REFUSALS)
    # 127.0.0.1 is allowed for its outlet's port only; nothing listens on 127.0.0.1 at the other port
    other_port = urlsplit(elsewhere.base_url).port
    fault(
        "redirect-to-another-port-of-the-allowed-host", r.redirect(f"http://127.0.0.1:{other_port}/admin"), "internal"
    )
    for target in NON_HTTP_REDIRECTS:
        fault(f"redirect-to-a-{target.partition(':')[0]}-url", r.redirect(target), "offsite")
    for name, host in aliases.items():
        probe = f"/probe/{name}"
        main.add(probe, r.static(b"reached"))
        site.never_requested.append(probe)
        fault(f"redirect-to-this-machine-as-{name}", r.redirect(f"http://{host}:{port}{probe}"), "internal")
    throttled = r.static(b"slow down", status=429, headers=(("Retry-After", "1"),))
    fault("always-429-too-many-requests", throttled, "blocked")
    fault("always-500-server-error", r.static(b"oops", status=500), "http")
    fault("gone-missing-404-not-found", r.static(b"nope", status=404), "http")
    fault("report-served-as-a-pdf-document", r.static(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf"),
          "not_html")  # fmt: skip
    fault("photo-served-as-a-png-image", r.static(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png"), "not_html")
    chrome = b"<html><body><nav><a href='/'>Accueil</a></nav><footer>Contact</footer></body></html>"
    for slug, body in (("empty-200-response-with-no-body", b""), ("page-with-navigation-and-no-article-text", chrome)):
        url = main.add(DAY + slug, r.static(body))
        site.no_text.append(url)
        section_links.append(url)

    # -- feeds ------------------------------------------------------------------------------
    def feed(path: str, body: bytes, content_type: str = "application/rss+xml", kinds: str | None = None) -> str:
        url = main.add(path, r.static(body, content_type))
        if kinds:
            site.failures[url] = frozenset([kinds])
        return url

    feeds = []
    entity_sitemaps: list[str] = []
    only = good("linked-only-from-the-plain-feed", link=False)
    feeds.append(feed("/feed.xml", rss([("plain", only), ("first", first)]).encode()))
    only = good("linked-only-from-the-utf16-feed", lang="ar", link=False)
    feeds.append(feed("/feed-utf16.xml", codecs.BOM_UTF16_LE + rss([("عنوان", only)], "utf-16").encode("utf-16-le"),
                      "application/rss+xml; charset=utf-16"))  # fmt: skip
    only = good("linked-only-from-the-malformed-feed", link=False)
    malformed = rss([("kept", only)]).replace("</channel></rss>", "<item><title>a < b & c</title><lnk>x</item>")
    feeds.append(feed("/feed-malformed.xml", malformed.encode(), kinds="feed"))
    only = good("linked-only-from-the-truncated-feed", link=False)
    body = rss([("kept", only), ("cut", main.url(DAY + "never-finished"))])
    feeds.append(feed("/feed-truncated.xml", body[: body.index("never-finished") - 20].encode(), kinds="feed"))
    # one entry past the cap: the first entries (a new article among them) are read, the cut recorded
    only = good("linked-only-from-the-feed-over-the-link-cap", link=False)
    archive = [(f"old {i}", main.url(f"/archive/2018/page-{i}")) for i in range(LINK_CAP)]
    feeds.append(feed("/feed-over-the-link-cap.xml", rss([("new", only), *archive]).encode(), kinds="feed"))
    # Documents declaring entities are refused whole ("refused: DTD with entity declarations"):
    # the pages they list are never requested.
    main.add("/probe/xxe", r.static(b"reached"))
    site.never_requested.append("/probe/xxe")
    entities = f'<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY remote SYSTEM "{main.url("/probe/xxe")}">'
    listed = main.url("/probe/listed-by-an-entity-feed")
    site.never_requested.append("/probe/listed-by-an-entity-feed")
    xxe = rss([("&xxe;&remote;", listed)], prolog=f"<!DOCTYPE rss [{entities}]>")
    feeds.append(feed("/feed-xxe.xml", xxe.encode(), kinds="feed"))
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    laughs = rss([("&lol9;", listed)], prolog=f'<!DOCTYPE rss [<!ENTITY lol0 "lol">{lol}]>')
    feeds.append(feed("/feed-billion-laughs.xml", laughs.encode(), kinds="feed"))
    # Expanding under expat's own limit, behind what once hid a DOCTYPE from the prolog scan.
    tuned = TUNED_ENTITIES
    for name, before in BOMB_PROLOGS.items():
        bomb = rss([("&a4;" * 5, listed)], prolog=f"{before}<!DOCTYPE rss [{tuned}]>")
        feeds.append(feed(f"/feed-bomb-{name}.xml", bomb.encode(), kinds="feed"))
        bomb = urlset([listed]).replace("<loc>", f"<loc>{main.url('/probe/')}&a4;", 1)
        bomb = bomb.replace("?><urlset", f"?>{before}<!DOCTYPE urlset [{tuned}]><urlset", 1)
        entity_sitemaps.append(main.add(f"/sitemap-bomb-{name}.xml", r.static(bomb.encode(), "application/xml")))
        site.failures[entity_sitemaps[-1]] = frozenset({"sitemap"})

    # -- sitemaps ---------------------------------------------------------------------------
    only = good("linked-only-from-the-big-sitemap", link=False)
    # 50,001 entries: one new article, tracking-parameter variants of a page already linked, and
    # archive pages the outlet's deny rule excludes (so the test crawl stays short).
    variants = [f"{first}?utm_source=sitemap&utm_content={i}" for i in range(100)]
    archive = [main.url(f"/archive/2019/page-{i}") for i in range(BIG_SITEMAP_URLS - 1 - len(variants))]
    big_urls = [only, *variants, *archive]
    big = main.add("/sitemap-big.xml", r.static(urlset(big_urls).encode(), "application/xml"))
    site.failures[big] = frozenset({"sitemap"})  # truncated at LINK_CAP URLs: noted
    only = good("linked-only-from-the-truncated-sitemap", link=False)
    cut = urlset([only, main.url(DAY + "never-finished-either")])
    cut = cut[: cut.index("never-finished") - 10]
    truncated = main.add("/sitemap-truncated.xml", r.static(cut.encode(), "application/xml"))
    site.failures[truncated] = frozenset({"sitemap"})
    garbage = main.add("/sitemap-garbage.xml", r.static(b"\x00\x01<<<not xml at all>>>\xff", "application/xml"))
    site.failures[garbage] = frozenset({"sitemap"})
    # a child sitemap on a host no outlet lists: not followed, and the index says so
    index = [big, truncated, garbage, *entity_sitemaps, elsewhere.url("/sitemap-on-a-cdn.xml")]
    locs = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in index)
    sitemap_index = main.add("/sitemap.xml", r.static(
        f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</sitemapindex>'.encode(),
        "application/xml"))  # fmt: skip
    site.failures[sitemap_index] = frozenset({"offsite"})

    links = "".join(f'<li><a href="{u}">{u.rsplit("/", 1)[1]}</a></li>' for u in section_links)
    section = main.add("/section/", r.static(f"<html><body><ul>{links}</ul></body></html>".encode()))
    # a malformed <base href> makes Scrapy's link extractor raise: its links must not be lost
    only = good("linked-only-from-the-section-with-a-broken-base", link=False)
    page = f'<html><head><base href="http://[::1/"></head><body><a href="{only}">x</a></body></html>'
    broken_base = main.add("/section-broken-base/", r.static(page.encode()))
    site.failures[broken_base] = frozenset({"section"})

    # -- an outlet whose robots.txt answers 503 --------------------------------------------
    robots_down.add("/robots.txt", r.static(b"<html>Service Unavailable</html>", status=503))
    hidden = [robots_down.add(f"{DAY}behind-a-failing-robots-txt-{n}", r.static(
        article_html("Caché", french_paragraphs(8_000 + n), "fr").encode())) for n in (1, 2)]  # fmt: skip
    links = "".join(f'<a href="{u}">x</a>' for u in hidden)
    robots_section = robots_down.add("/section/", r.static(f"<html><body>{links}</body></html>".encode()))
    site.robots_failure = robots_down.url("/robots.txt")

    site.sources = {
        "outlets": {
            "faulty": {"name": "Faulty", "sections": [section, broken_base], "feeds": feeds,
                       "sitemaps": [sitemap_index], "hosts": list(aliases.values()), "deny": ["/archive/"]},
            "robotsdown": {"name": "Robots down", "sections": [robots_section]},
        }
    }  # fmt: skip
    return site
