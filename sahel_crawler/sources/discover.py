"""Finding what a new outlet offers: its feeds (HTML `<link rel=alternate>`, common paths), its
sitemaps (robots.txt, common paths) and the shape of its article URLs, as a registry entry to
paste into a sources file (`sahel sources discover URL`)."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html
from trafilatura.feeds import FeedParameters, determine_feed
from trafilatura.sitemaps import extract_robots_sitemaps

from sahel_crawler.discovery import parse_feed, parse_sitemap
from sahel_crawler.discovery.links import looks_like_article_url

# Where sites commonly publish feeds and sitemaps that their pages do not announce.
COMMON_FEED_PATHS = ("/rss", "/feed", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml")
COMMON_SITEMAP_PATHS = ("/sitemap.xml", "/sitemap_news.xml", "/news-sitemap.xml")
# Article URL shapes and the allow rule each suggests.
ARTICLE_SHAPES = (
    (re.compile(r"/\d{8}-"), r"/\d{8}-"),
    (re.compile(r"/(?:19|20)\d\d/\d{1,2}/\d{1,2}/"), r"/(?:19|20)\d\d/\d{1,2}/\d{1,2}/"),
    (re.compile(r"_\d{6,}(?:_\d+)?\.html$"), r"_\d{6,}(?:_\d+)?\.html$"),
)
# A shape is suggested when at least this share of the page's article links have it.
SHAPE_SHARE = 0.5

Fetch = Callable[[str], "tuple[int, bytes] | None"]


@dataclass
class SiteFindings:
    """What a site's page, robots.txt and common paths reveal."""

    url: str
    feeds: dict[str, str] = field(default_factory=dict)  # url -> how it was found
    sitemaps: dict[str, str] = field(default_factory=dict)  # url -> how it was found
    article_links: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)


def fetch_url(
    url: str, *, user_agent: str, timeout: float = 15, max_bytes: int = 5 * 1024 * 1024
) -> tuple[int, bytes] | None:
    """(status, at most `max_bytes` of the body) of a GET, or None when nothing answered."""
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(max_bytes)
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except (OSError, ValueError):
        return None


def discover_site(url: str, fetch: Fetch) -> SiteFindings:
    """Look at `url`'s page, its host's robots.txt and the common paths; keep only what parses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    root = f"{parts.scheme}://{parts.netloc}"
    found = SiteFindings(url)
    page = _body(fetch, url)
    if page:
        text = page.decode("utf-8", errors="replace")
        params = FeedParameters(root, parts.hostname, url)
        for feed in determine_feed(text, params):
            if _is_feed(fetch, feed):
                found.feeds.setdefault(feed, "announced by the page (link rel=alternate)")
        found.article_links = _article_links(text, url, parts.netloc)
        found.allow = _shapes(found.article_links)
    for path in COMMON_FEED_PATHS:
        candidate = root + path
        if candidate not in found.feeds and _is_feed(fetch, candidate):
            found.feeds[candidate] = "a common feed path"
    robots = _body(fetch, root + "/robots.txt")
    for sitemap in extract_robots_sitemaps(robots.decode("utf-8", errors="replace") if robots else None, root):
        found.sitemaps.setdefault(sitemap, "declared in robots.txt")
    for path in COMMON_SITEMAP_PATHS:
        candidate = root + path
        if candidate not in found.sitemaps and _is_sitemap(fetch, candidate):
            found.sitemaps[candidate] = "a common sitemap path"
    return found


def _body(fetch: Fetch, url: str) -> bytes | None:
    answer = fetch(url)
    return answer[1] if answer is not None and answer[0] == 200 and answer[1] else None


def _is_feed(fetch: Fetch, url: str) -> bool:
    body = _body(fetch, url)
    return bool(body) and bool(parse_feed(body, url).links)


def _is_sitemap(fetch: Fetch, url: str) -> bool:
    body = _body(fetch, url)
    if not body:
        return False
    result = parse_sitemap(body, url)
    return bool(result.links or result.sitemaps)


def _article_links(page: str, base: str, netloc: str) -> list[str]:
    try:
        tree = lxml_html.fromstring(page)
    except (ValueError, lxml_html.etree.ParserError):
        return []
    links = (urljoin(base, href) for href in tree.xpath("//a/@href"))
    same_host = (u for u in links if urlsplit(u).netloc == netloc)
    return list(dict.fromkeys(u.split("#")[0] for u in same_host if looks_like_article_url(u)))


def _shapes(links: list[str]) -> list[str]:
    return [
        rule
        for shape, rule in ARTICLE_SHAPES
        if links and sum(bool(shape.search(u)) for u in links) >= SHAPE_SHARE * len(links)
    ]


def registry_entry(found: SiteFindings) -> str:
    """A sources-file entry for the site, each URL commented with how it was found."""
    host = urlsplit(found.url).hostname or "site"
    outlet_id = re.sub(r"[^a-z0-9]+", "_", host.removeprefix("www.").lower()).strip("_")
    if not outlet_id[:1].isalpha():  # YAML reads 127_0_0_1 as a number
        outlet_id = f"site_{outlet_id}"
    lines = [f"  {outlet_id}:", f"    name: {json.dumps(host)}"]
    for key, urls in (("feeds", found.feeds), ("sitemaps", found.sitemaps)):
        if urls:
            lines.append(f"    {key}:")
            lines += [f"      - {url}   # {how}" for url, how in urls.items()]
    lines += ["    sections:", f"      - {found.url}   # the page discovery started from"]
    if found.allow:
        rules = ", ".join(f"'{rule}'" for rule in found.allow)
        lines.append(f"    allow: [{rules}]   # the shape of {len(found.article_links)} article links on the page")
    return "outlets:\n" + "\n".join(lines) + "\n"
