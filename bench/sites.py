"""Generated replay sites of N real-shaped articles, for benchmarks that need thousands of pages.

Texts come from ../shared/corpus when it is there (France 24 Arabic articles, BBC Afrique French
articles); a generated fallback keeps the benchmarks running without it. Pages use the bundled
replay's France 24 markup (templates, navigation, cookie banner, related list, JSON-LD) with the
weight of a real page around it (bench/weight.py: mega-menu, rails, ads, footer, inline scripts),
so the extractor works as hard as on the real outlet; `heavy=False` serves the template alone.
Two outlets, Arabic on 127.0.0.1 and French on
127.0.0.2, each with robots.txt, a sitemap index over news sitemaps and an RSS feed.

Pages are rendered when requested, so the site's memory stays small at 100,000 articles.

    with ReplayServer(hosts=HOSTS, site_builder=GeneratedSiteBuilder(1000)) as replay: ...
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import CORPUS, france24_arabic, masakhanews_french
from bench.weight import PageWeight
from sahel_crawler.replay import BuiltSite, ExpectedArticle, Resource, render
from sahel_crawler.replay.site import cacheable
from sahel_crawler.replay.stories import load_chrome

# outlet id -> (loopback address, language, section path segment)
OUTLETS = {"f24ar": ("127.0.0.1", "ar", "أفريقيا"), "f24fr": ("127.0.0.2", "fr", "afrique")}
HOSTS = {outlet: ip for outlet, (ip, _, _) in OUTLETS.items()}
PARIS = ZoneInfo("Europe/Paris")
HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
SITEMAP_CHUNK = 1000  # URLs per news sitemap
FEED_ENTRIES = 100  # the RSS feed lists the latest articles only, as outlets do
_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Text:
    """One article text: title, standfirst and paragraphs, with where it came from."""

    lang: str
    title: str
    standfirst: str
    paragraphs: tuple[str, ...]
    source: str


def _paragraphs(text: str, per_paragraph: int = 3) -> list[str]:
    """Paragraphs of a text: its own line breaks, else groups of sentences."""
    lines = [" ".join(line.split()) for line in text.splitlines() if len(line.strip()) > 20]
    if len(lines) >= 3:
        return lines
    sentences = [s for s in _SENTENCE_END.split(" ".join(text.split())) if s]
    return [" ".join(sentences[i : i + per_paragraph]) for i in range(0, len(sentences), per_paragraph)]


def arabic_texts(corpus: Path = CORPUS) -> list[Text]:
    """France 24 Arabic articles (2018, from its RSS) with at least three paragraphs."""
    texts = []
    for row in france24_arabic(corpus):
        paragraphs = _paragraphs(row.get("text") or "")
        if len(paragraphs) >= 3 and row.get("title"):
            standfirst = " ".join((row.get("abstract") or "").split())
            texts.append(Text("ar", row["title"].strip(), standfirst, tuple(paragraphs), row.get("url", "")))
    return texts


def french_texts(corpus: Path = CORPUS) -> list[Text]:
    """BBC Afrique French articles with at least three paragraphs."""
    texts = []
    for row in masakhanews_french(corpus):
        paragraphs = _paragraphs(row.get("text") or "")
        if len(paragraphs) >= 3 and row.get("headline"):
            texts.append(Text("fr", row["headline"].strip(), paragraphs[0], tuple(paragraphs[1:]), row["url"]))
    return texts


def fallback_texts(lang: str, count: int = 400, seed: int = 8) -> list[Text]:
    """Wire-copy-like texts made from a small vocabulary, when the corpus is missing."""
    words = {
        "fr": "le la les des une un dans pour avec sur selon armée région gouvernement Mali Niger Burkina "
        "Faso Sahel Bamako Niamey Ouagadougou attaque soldats civils élections transition sécurité accord "
        "frontière aide humanitaire réfugiés déplacés pluie récolte marché prix ministre président junte",
        "ar": "في من على إلى مع بعد قبل قال الجيش المنطقة الحكومة مالي النيجر بوركينا فاسو الساحل باماكو "
        "نيامي واغادوغو هجوم جنود مدنيين انتخابات المرحلة الانتقالية الأمن اتفاق الحدود المساعدات "
        "اللاجئين النازحين الأمطار المحصول السوق الأسعار الوزير الرئيس المجلس العسكري",
    }[lang].split()
    rng = random.Random(seed)

    def sentence() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(12, 24))) + "."

    return [
        Text(
            lang,
            " ".join(rng.choice(words) for _ in range(8)),
            sentence(),
            tuple(" ".join(sentence() for _ in range(3)) for _ in range(rng.randint(5, 9))),
            "generated",
        )
        for _ in range(count)
    ]


def article_text(pool: list[Text], n: int) -> Text:
    """The n-th article of a language: the corpus texts in order, then new mixes of their paragraphs.

    After the first pass each paragraph comes from a different corpus text, so repeated passes
    make distinct articles rather than duplicates the duplicate stage would drop.
    """
    size = len(pool)
    base, round_ = pool[n % size], n // size
    if round_ == 0:
        return base
    stride = 7 * round_ + 1
    paragraphs = tuple(
        pool[(n + i * stride) % size].paragraphs[i % len(pool[(n + i * stride) % size].paragraphs)]
        for i in range(max(4, len(base.paragraphs)))
    )
    return Text(base.lang, f"{base.title} ({round_ + 1})", pool[(n + stride) % size].standfirst, paragraphs, "mixed")


def _slug(title: str, n: int) -> str:
    words = _WORD.findall(title.lower())[:7]
    return "-".join([*words, str(n)])


@dataclass(frozen=True)
class _Article:
    outlet: str
    n: int  # index within the outlet
    text: Text
    published: datetime
    path: str
    url: str


class GeneratedSite:
    """What one outlet's host serves: robots.txt, sitemaps, RSS and article pages rendered on request."""

    def __init__(self, outlet: str, base: str, articles: list[_Article], now: datetime, heavy: bool = True) -> None:
        self.outlet = outlet
        self.base = base
        self.lang = OUTLETS[outlet][1]
        self.section = OUTLETS[outlet][2]
        self.articles = articles
        self.by_path = {a.path: a for a in articles}
        self.now = now
        self.chrome = load_chrome()["france24"][self.lang]
        self.static = self._static()
        teasers = [(a.text.title, a.url) for a in articles[:200]]
        self.weight = PageWeight(self.lang, base, self.chrome["nav"], teasers) if heavy else None

    def _entry(self, article: _Article) -> render.FeedEntry:
        return render.FeedEntry(
            title=article.text.title,
            link=article.url,
            published=article.published,
            summary=article.text.standfirst,
            guid=f"{self.outlet}-{article.n}",
            language=self.lang,
        )

    def _static(self) -> dict[str, Resource]:
        newest = sorted(self.articles, key=lambda a: a.published, reverse=True)
        resources: dict[str, Resource] = {}
        chunks = []
        for k in range(0, len(newest), SITEMAP_CHUNK):
            part = newest[k : k + SITEMAP_CHUNK]
            path = f"/sitemaps/{self.lang}/news-{k // SITEMAP_CHUNK}.xml"
            body = render.news_sitemap("France 24", [self._entry(a) for a in part], PARIS)
            resources[path] = cacheable(body, XML, part[0].published)
            chunks.append((self.base + path, part[0].published))
        latest = newest[0].published if newest else self.now
        resources["/sitemaps/index.xml"] = cacheable(render.sitemap_index(chunks), XML, latest)
        feed = render.FeedInfo(
            title=f"France 24 - {self.lang}",
            link=f"{self.base}/{self.lang}/",
            self_url=f"{self.base}/{self.lang}/rss",
            description="France 24",
            language=self.lang,
            entries=[self._entry(a) for a in newest[:FEED_ENTRIES]],
        )
        resources[f"/{self.lang}/rss"] = cacheable(render.rss(feed, PARIS), RSS, latest)
        robots = f"User-agent: *\nDisallow: /{self.lang}/archives/\n\nSitemap: {self.base}/sitemaps/index.xml\n"
        resources["/robots.txt"] = Resource(robots.encode(), "text/plain; charset=utf-8")
        return resources

    def page(self, article: _Article) -> bytes:
        """The article page, France 24 markup."""
        text, lang = article.text, self.lang
        published_iso = render.iso(article.published, PARIS)
        modified_iso = render.iso(article.published + timedelta(minutes=20), PARIS)
        image = f"{self.base}/media/{article.n}.jpg"
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "mainEntityOfPage": {"@type": "WebPage", "@id": article.url},
            "url": article.url,
            "headline": text.title,
            "description": text.standfirst,
            "datePublished": published_iso,
            "dateModified": modified_iso,
            "inLanguage": lang,
            "articleSection": self.section,
            "image": [image],
            "publisher": {"@type": "NewsMediaOrganization", "name": "France 24"},
        }
        related = [self.articles[(article.n + k) % len(self.articles)] for k in (1, 2, 3)]
        context = {
            "id": f"{self.outlet}-{article.n}",
            "lang": lang,
            "dir": "rtl" if lang == "ar" else "ltr",
            "title": text.title,
            "standfirst": text.standfirst,
            "paragraphs": text.paragraphs,
            "author": None,
            "author_url": "",
            "canonical": article.url,
            "alternates": [{"title": "France 24", "url": f"{self.base}/{lang}/rss"}],
            "image": image,
            "published_iso": published_iso,
            "modified_iso": modified_iso,
            "published_display": f"{article.published.astimezone(PARIS):%d/%m/%Y - %H:%M}",
            "section_label": self.section,
            "section_url": self.base + render.encode_path(f"/{lang}/{self.section}/"),
            "tags": [],
            "related": [(a.text.title, a.url) for a in related if a is not article],
            "video": False,
            "jsonld": render.json_ld(ld),
        }
        page = render.render("f24_article.html", p=context, c=self.chrome)
        return (self.weight.weigh(page, article.n) if self.weight else page).encode("utf-8")

    def get(self, path: str) -> Resource | None:
        """The resource at the decoded `path`, or None."""
        found = self.static.get(path)
        if found is not None:
            return found
        article = self.by_path.get(path)
        if article is None:
            return None
        body = self.page(article)
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        return Resource(body, HTML, etag=etag, last_modified=article.published + timedelta(minutes=20))


class GeneratedSiteBuilder:
    """A `SiteBuilder` for ReplayServer: `articles` pages split between the Arabic and French outlets.

    `corpus` is the shared corpus folder; a missing corpus (or `corpus=None`) uses generated texts.
    `heavy=False` serves the replay template without a real page's weight around it.
    """

    def __init__(self, articles: int, corpus: Path | None = CORPUS, heavy: bool = True) -> None:
        self.count = articles
        self.corpus = corpus
        self.heavy = heavy

    @cached_property
    def texts(self) -> dict[str, list[Text]]:
        """The text pools per language, and (in `source`) whether they came from the corpus."""
        ar = arabic_texts(self.corpus) if self.corpus else []
        fr = french_texts(self.corpus) if self.corpus else []
        return {"ar": ar or fallback_texts("ar"), "fr": fr or fallback_texts("fr")}

    @property
    def from_corpus(self) -> bool:
        """Whether the texts are real corpus articles (else the generated fallback)."""
        return all(pool[0].source != "generated" for pool in self.texts.values())

    def _articles(self, outlet: str, base: str, count: int, now: datetime) -> Iterator[_Article]:
        lang, section = OUTLETS[outlet][1], OUTLETS[outlet][2]
        for n in range(count):
            text = article_text(self.texts[lang], n)
            # Spread over the last days, newest first; whole minutes as the outlets publish.
            published = (now - timedelta(minutes=7 * n + 30)).replace(second=0, microsecond=0)
            path = f"/{lang}/{section}/{published.astimezone(PARIS):%Y%m%d}-{_slug(text.title, n)}"
            yield _Article(outlet, n, text, published, path, base + render.encode_path(path))

    def __call__(self, base_urls: Mapping[str, str], now: datetime) -> BuiltSite:
        """Build both outlets' sites for the bound base URLs (ReplayServer calls this)."""
        half = (self.count + 1) // 2
        counts = {"f24ar": half, "f24fr": self.count - half}
        sites, outlets, manifest = {}, {}, []
        for outlet, count in counts.items():
            base = base_urls[outlet]
            articles = list(self._articles(outlet, base, count, now.astimezone(UTC)))
            sites[outlet] = GeneratedSite(outlet, base, articles, now, heavy=self.heavy)
            lang = OUTLETS[outlet][1]
            outlets[outlet] = {
                "name": f"France 24 ({lang}, generated)",
                "feeds": [f"{base}/{lang}/rss"],
                "sitemaps": [f"{base}/sitemaps/index.xml"],
                "allow": [r"/\d{8}-"],
            }
            manifest += [
                ExpectedArticle(outlet, a.url, a.text.title, lang, a.published, body_phrases=[a.text.paragraphs[-1]])
                for a in articles
            ]
        return BuiltSite(sites=sites, outlets=outlets, articles=manifest)


def article_pages(built: BuiltSite, step: int = 1) -> Iterator[tuple[str, str, str]]:
    """(outlet, url, decoded page) of every `step`-th article of a generated site, for
    extraction-only runs; rendered one by one (100,000 real-weight pages would need 25 GB)."""
    index = 0
    for outlet, site in built.sites.items():
        assert isinstance(site, GeneratedSite)
        for article in site.articles:
            if index % step == 0:
                yield outlet, article.url, site.page(article).decode("utf-8")
            index += 1
