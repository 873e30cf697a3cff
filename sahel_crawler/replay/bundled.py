"""The bundled replay site: France 24-like and Middle East Online-like hosts built from data/stories.yaml.

Besides the article pages it holds the awkward cases a crawler must handle (see README.md): tracking
parameters on feed links, an article under two section URLs (one with rel=canonical to the other),
a video page without article text, a windows-1256 page, a syndicated copy on the other host, a feed
link to another host, and a robots.txt-disallowed link on each host's section page.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sahel_crawler.replay import render
from sahel_crawler.replay.manifest import ExpectedArticle
from sahel_crawler.replay.site import BuiltSite, Resource, StaticSite, cacheable, redirect
from sahel_crawler.replay.stories import Story, load_chrome, load_stories

PARIS = ZoneInfo("Europe/Paris")
LONDON = ZoneInfo("Europe/London")
OUTLET_NAMES = {"france24": "France 24", "meo": "Middle East Online"}
DEFAULT_HOSTS = {"france24": "127.0.0.1", "meo": "127.0.0.2"}

# Paths that each host's robots.txt disallows; the section pages link to a page below them.
DISALLOWED = {"france24": "/fr/archives/", "meo": "/print/"}
# A page on the Middle East Online host that only a France 24 feed links to: a crawler that leaves an
# outlet's hosts requests it, a correct one never does.
OFFSITE_PATH = "/en/partner/sahel-trade-routes-reopen-after-rainy-season"

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
TRACKING = {"lang": "?xtor=RSS-181", "section": "?utm_source=rss&utm_medium=afrique&xtor=RSS-30"}
_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+")


@dataclass(frozen=True)
class Placed:
    """A story placed on its host at a time: its decoded path and absolute URL."""

    story: Story
    published: datetime
    path: str
    url: str
    alias_path: str | None = None

    @property
    def stored(self) -> bool:
        return self.story.kind != "video"


def _place(story: Story, base: str, now: datetime) -> Placed:
    published = (now - timedelta(hours=story.age_hours)).astimezone(UTC).replace(second=0, microsecond=0)
    alias = None
    if story.outlet == "france24":
        stem = f"{published.astimezone(PARIS):%Y%m%d}-{story.slug}"
        path = f"/{story.lang}/{story.section}/{stem}" if story.section else f"/{story.lang}/{stem}"
        if story.alias_section:
            alias = f"/{story.lang}/{story.alias_section}/{stem}"
    else:
        path = f"/{story.slug}" if story.lang == "ar" else f"/en/{story.slug}"
    return Placed(story, published, path, base + render.encode_path(path), alias)


def _first_sentence(paragraph: str) -> str:
    sentence = _SENTENCE_END.split(paragraph, maxsplit=1)[0]
    return sentence if len(sentence) >= 40 else paragraph


def body_phrases(story: Story) -> list[str]:
    """Sentences from inside the body (not the lead, which a syndicated copy rewrites)."""
    candidates = [p for p in story.paragraphs[1:] if len(p) >= 40]
    picked = [candidates[0], candidates[-1]] if len(candidates) > 1 else candidates
    return [_first_sentence(p) for p in dict.fromkeys(picked)]


def _direction(lang: str) -> str:
    return "rtl" if lang == "ar" else "ltr"


class _Builder:
    """Renders every resource of the bundled site for given base URLs and reference time."""

    def __init__(self, base_urls: Mapping[str, str], now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        missing = set(OUTLET_NAMES) - set(base_urls)
        if missing:
            raise ValueError(f"the bundled site needs base URLs for {sorted(missing)}")
        self.base = dict(base_urls)
        self.now = now
        self.chrome = load_chrome()
        self.placed = [_place(s, self.base[s.outlet], now) for s in load_stories()]
        self.by_id = {p.story.id: p for p in self.placed}
        self.sites = {outlet: StaticSite() for outlet in OUTLET_NAMES}

    # -- helpers -------------------------------------------------------------------------------------
    def _pages(self, outlet: str, lang: str | None = None, *, stored_only: bool = True) -> list[Placed]:
        pages = [
            p
            for p in self.placed
            if p.story.outlet == outlet and (lang is None or p.story.lang == lang) and (p.stored or not stored_only)
        ]
        return sorted(pages, key=lambda p: p.published, reverse=True)

    def _related(self, page: Placed) -> list[tuple[str, str]]:
        others = [p for p in self._pages(page.story.outlet, page.story.lang) if p is not page]
        return [(p.story.title, p.url) for p in others[:3]]

    def _image(self, page: Placed) -> str:
        return f"{self.base[page.story.outlet]}/media/{page.story.id}.jpg"

    def _entry(self, page: Placed, link: str | None = None) -> render.FeedEntry:
        story = page.story
        return render.FeedEntry(
            title=story.title,
            link=link or page.url,
            published=page.published,
            summary=story.standfirst or (story.paragraphs[0] if story.paragraphs else ""),
            guid=f"{story.outlet}-{story.id}",
            author=story.author,
            categories=tuple(label for label in [self._section_label(page)] if label),
            language=story.lang,
            image=self._image(page),
        )

    def _section_label(self, page: Placed) -> str:
        chrome = self.chrome[page.story.outlet][page.story.lang]
        section = page.story.section or ""
        return chrome.get("section_labels", {}).get(section, section)

    def _add(self, outlet: str, path: str, resource: Resource) -> None:
        self.sites[outlet].add(path, resource)

    # -- France 24 -----------------------------------------------------------------------------------
    def _f24_page(self, page: Placed, canonical: str) -> bytes:
        story, lang = page.story, page.story.lang
        base = self.base["france24"]
        published_iso = render.iso(page.published, PARIS)
        modified_iso = render.iso(page.published + timedelta(minutes=20), PARIS)
        ld: dict[str, object]
        if story.kind == "video":
            ld = {
                "@context": "https://schema.org",
                "@type": "VideoObject",
                "name": story.title,
                "uploadDate": published_iso,
                "thumbnailUrl": self._image(page),
                "inLanguage": lang,
            }
        else:
            ld = {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
                "url": canonical,
                "headline": story.title,
                "description": story.standfirst,
                "datePublished": published_iso,
                "dateModified": modified_iso,
                "inLanguage": lang,
                "articleSection": self._section_label(page),
                "image": [self._image(page)],
                "author": [{"@type": "Person", "name": story.author}] if story.author else [],
                "publisher": {
                    "@type": "NewsMediaOrganization",
                    "name": "France 24",
                    "logo": {"@type": "ImageObject", "url": f"{base}/assets/img/logo-france24.png"},
                },
            }
        alternates = [{"title": "France 24", "url": f"{base}/{lang}/rss"}]
        context = {
            "id": story.id,
            "lang": lang,
            "dir": _direction(lang),
            "title": story.title,
            "standfirst": story.standfirst,
            "paragraphs": story.paragraphs,
            "author": story.author,
            "author_url": base + render.encode_path(f"/{lang}/auteur/{(story.author or '').lower().replace(' ', '-')}"),
            "canonical": canonical,
            "alternates": alternates,
            "image": self._image(page),
            "published_iso": published_iso,
            "modified_iso": modified_iso,
            "published_display": f"{page.published.astimezone(PARIS):%d/%m/%Y - %H:%M}",
            "section_label": self._section_label(page) or self.chrome["france24"][lang]["site_suffix"],
            "section_url": base + render.encode_path(f"/{lang}/{story.section or ''}/".replace("//", "/")),
            "tags": [(tag.replace("-", " ").title(), f"{base}/{lang}/tag/{tag}/") for tag in story.tags],
            "related": self._related(page),
            "video": story.kind == "video",
            "jsonld": render.json_ld(ld),
        }
        return render.render("f24_article.html", p=context, c=self.chrome["france24"][lang]).encode("utf-8")

    def _f24_section(self, lang: str, section: str, title: str, extra: list[tuple[str, str]]) -> bytes:
        base = self.base["france24"]
        items = [
            {
                "url": p.url,
                "title": p.story.title,
                "image": self._image(p),
                "published_iso": render.iso(p.published, PARIS),
                "published_display": f"{p.published.astimezone(PARIS):%d/%m/%Y}",
            }
            for p in self._pages("france24", lang)
            if p.story.section == section
        ]
        context = {
            "lang": lang,
            "dir": _direction(lang),
            "title": title,
            "canonical": f"{base}/{lang}/{section}/",
            "alternates": [{"title": title, "url": f"{base}/{lang}/{section}/rss"}],
            "cards": items,
            "extra_links": extra,
        }
        return render.render("f24_section.html", p=context, c=self.chrome["france24"][lang]).encode("utf-8")

    def _f24_feed(self, path: str, title: str, entries: list[render.FeedEntry], lang: str) -> None:
        base = self.base["france24"]
        feed = render.FeedInfo(
            title=title,
            link=f"{base}/{lang}/",
            self_url=base + render.encode_path(path),
            description=f"{title} - France 24",
            language=lang,
            copyright="France 24",
            entries=entries,
        )
        self._add("france24", path, cacheable(render.rss(feed, PARIS), RSS, _latest(entries)))

    def build_france24(self) -> None:
        base = self.base["france24"]
        for page in self._pages("france24", stored_only=False):
            body = self._f24_page(page, page.url)
            self._add("france24", page.path, Resource(body, HTML))
            if page.alias_path:
                # Same article under a second section; rel=canonical names the main URL.
                self._add("france24", page.alias_path, Resource(self._f24_page(page, page.url), HTML))

        def tracked(page: Placed, kind: str) -> str:
            return page.url + TRACKING[kind] if page.story.tracking else page.url

        for lang, title in (("fr", "France 24 - Infos"), ("en", "France 24 - News"), ("ar", "فرانس 24 - أخبار")):
            pages = self._pages("france24", lang, stored_only=False)
            self._f24_feed(f"/{lang}/rss", title, [self._entry(p, tracked(p, "lang")) for p in pages], lang)

        afrique = [p for p in self._pages("france24", "fr") if p.story.section == "afrique"]
        self._f24_feed("/fr/afrique/rss", "Afrique", [self._entry(p, tracked(p, "section")) for p in afrique], "fr")
        africa = [p for p in self._pages("france24", "en") if p.story.section == "africa"]
        offsite = render.FeedEntry(
            title="Sahel trade routes reopen after the rainy season",
            link=self.base["meo"] + OFFSITE_PATH,
            published=self.now.astimezone(UTC).replace(second=0, microsecond=0) - timedelta(hours=2),
            summary="A partner story hosted on another site.",
            guid="partner-sahel-trade-routes",
            language="en",
        )
        self._f24_feed("/en/africa/rss", "Africa", [self._entry(p) for p in africa] + [offsite], "en")
        tagged = [p for p in self._pages("france24", "fr") if "mali" in p.story.tags]
        tag_entries = [
            self._entry(p, base + render.encode_path(p.alias_path) if p.alias_path else p.url) for p in tagged
        ]
        self._f24_feed("/fr/tag/mali/rss", "Mali", tag_entries, "fr")

        fr_map = render.news_sitemap("France 24", [self._entry(p) for p in self._pages("france24", "fr")], PARIS)
        fr_latest = _latest(self._entry(p) for p in self._pages("france24", "fr"))
        self._add("france24", "/sitemaps/fr/news.xml", cacheable(fr_map, XML, fr_latest))
        en_entries = [self._entry(p) for p in self._pages("france24", "en")]
        en_map = gzip.compress(render.news_sitemap("France 24", en_entries, PARIS), mtime=0)
        self._add("france24", "/sitemaps/en/news.xml.gz", cacheable(en_map, "application/gzip", _latest(en_entries)))
        index = render.sitemap_index(
            [(f"{base}/sitemaps/fr/news.xml", fr_latest), (f"{base}/sitemaps/en/news.xml.gz", _latest(en_entries))]
        )
        self._add("france24", "/sitemaps/index.xml", cacheable(index, XML, max(fr_latest, _latest(en_entries))))

        archive_path = f"{DISALLOWED['france24']}{self.now.astimezone(PARIS):%Y%m%d}-les-accords-d-alger-dix-ans-apres"
        archive_title = self.chrome["france24"]["fr"]["archive_label"]
        self._add("france24", archive_path, Resource(_plain_page(archive_title, "fr"), HTML))
        sections = (
            ("fr", "afrique", "Afrique", [(archive_title, base + render.encode_path(archive_path))]),
            ("en", "africa", "Africa", []),
        )
        for lang, section, title, extra in sections:
            self._add("france24", f"/{lang}/{section}/", Resource(self._f24_section(lang, section, title, extra), HTML))
            self._add("france24", f"/{lang}/{section}", redirect(f"{base}/{lang}/{section}/"))
        robots = f"User-agent: *\nDisallow: {DISALLOWED['france24']}\n\nSitemap: {base}/sitemaps/index.xml\n"
        self._add("france24", "/robots.txt", Resource(robots.encode(), "text/plain; charset=utf-8"))

    # -- Middle East Online --------------------------------------------------------------------------
    def _meo_page(self, page: Placed, canonical: str) -> bytes:
        story, lang = page.story, page.story.lang
        base = self.base["meo"]
        chrome = self.chrome["meo"][lang]
        charset = "windows-1256" if story.encoding.lower() in {"windows-1256", "cp1256"} else "utf-8"
        feed_url, feed_type = (
            (f"{base}/rss.xml", "application/rss+xml") if lang == "ar" else (f"{base}/en/feed.atom", ATOM)
        )
        context = {
            "lang": lang,
            "dir": _direction(lang),
            "charset": charset,
            "title": story.title,
            "standfirst": story.standfirst,
            "paragraphs": story.paragraphs,
            "canonical": canonical,
            "shortlink": f"{base}/node/{zlib.crc32(story.id.encode()) % 90000 + 10000}",
            "image": self._image(page),
            "dateline": story.dateline,
            "published_iso": render.iso(page.published, UTC),
            "published_display": f"{page.published.astimezone(LONDON):%Y/%m/%d %H:%M}",
            "feed_url": feed_url,
            "feed_type": feed_type.split(";")[0],
            "related": self._related(page),
            "most_read": [(p.story.title, p.url) for p in self._pages("meo", lang)[-3:]],
        }
        return render.render("meo_article.html", p=context, c=chrome).encode(charset)

    def build_meo(self) -> None:
        base = self.base["meo"]
        for page in self._pages("meo"):
            charset = "windows-1256" if page.story.encoding.lower() in {"windows-1256", "cp1256"} else "utf-8"
            body = self._meo_page(page, page.url)
            self._add("meo", page.path, Resource(body, f"text/html; charset={charset}"))

        arabic = self._pages("meo", "ar")
        feed = render.FeedInfo(
            title="ميدل ايست أونلاين",
            link=f"{base}/",
            self_url=f"{base}/rss.xml",
            description="آخر الأخبار من ميدل ايست أونلاين",
            language="ar",
            entries=[self._entry(p) for p in arabic],
        )
        self._add("meo", "/rss.xml", cacheable(render.rss(feed, LONDON), RSS, _latest(feed.entries)))
        english = self._pages("meo", "en")
        atom = render.FeedInfo(
            title="Middle East Online",
            link=f"{base}/en",
            self_url=f"{base}/en/feed.atom",
            description="Latest news from Middle East Online",
            language="en",
            entries=[self._entry(p) for p in english],
        )
        self._add("meo", "/en/feed.atom", cacheable(render.atom(atom), ATOM, _latest(atom.entries)))

        # The section page links one article's print version, which robots.txt disallows.
        print_page = arabic[-1]
        print_path = DISALLOWED["meo"] + print_page.path.lstrip("/")
        self._add("meo", print_path, Resource(self._meo_page(print_page, print_page.url), HTML))
        chrome = self.chrome["meo"]["ar"]
        items = [
            {
                "url": p.url,
                "title": p.story.title,
                "image": self._image(p),
                "published_iso": render.iso(p.published, UTC),
                "published_display": f"{p.published.astimezone(LONDON):%Y/%m/%d}",
                "print_url": base + render.encode_path(print_path) if p is print_page else None,
                "print_label": "نسخة للطباعة",
            }
            for p in arabic
        ]
        section_path = "/" + chrome["section_title"]
        context = {
            "lang": "ar",
            "dir": "rtl",
            "title": chrome["section_title"],
            "canonical": base + render.encode_path(section_path),
            "feed_url": f"{base}/rss.xml",
            "cards": items,
        }
        self._add("meo", section_path, Resource(render.render("meo_section.html", p=context, c=chrome).encode(), HTML))

        offsite = Placed(
            Story(
                id="meo-en-partner",
                outlet="meo",
                lang="en",
                slug=OFFSITE_PATH,
                age_hours=2,
                title="Sahel trade routes reopen after the rainy season",
                paragraphs=("Traders in the region say lorries are moving again on the main roads.",),
            ),
            self.now,
            OFFSITE_PATH,
            base + OFFSITE_PATH,
        )
        self._add("meo", OFFSITE_PATH, Resource(self._meo_page(offsite, offsite.url), HTML))
        robots = f"User-agent: *\nDisallow: {DISALLOWED['meo']}\n"
        self._add("meo", "/robots.txt", Resource(robots.encode(), "text/plain; charset=utf-8"))

    # -- manifest and registry -----------------------------------------------------------------------
    def manifest(self) -> list[ExpectedArticle]:
        articles = []
        for page in self.placed:
            story = page.story
            chrome = self.chrome[story.outlet][story.lang]
            if story.outlet == "france24":
                boilerplate = [chrome["cookie_text"], chrome["copyright"], chrome["newsletter"]]
            else:
                boilerplate = [chrome["cookie_text"], chrome["copyright"], chrome["breaking"]]
            boilerplate += [title for title, _ in self._related(page)[:1]]
            text = "\n".join((story.title, story.standfirst, *story.paragraphs))
            leaked = [phrase for phrase in boilerplate if phrase in text]
            if leaked:
                raise ValueError(f"{story.id}: boilerplate phrase also in the article text: {leaked}")
            original = self.by_id[story.syndicates].url if story.syndicates else None
            articles.append(
                ExpectedArticle(
                    outlet=story.outlet,
                    url=page.url,
                    title=story.title,
                    language=story.lang,
                    published_at=page.published,
                    body_phrases=body_phrases(story) if page.stored else [],
                    boilerplate_phrases=boilerplate,
                    author=story.author,
                    duplicate_of=original,
                    concepts=list(story.concepts),
                    stored=page.stored,
                )
            )
        return articles

    def registry(self) -> dict[str, dict[str, object]]:
        f24, meo = self.base["france24"], self.base["meo"]
        return {
            "france24": {
                "name": OUTLET_NAMES["france24"],
                "feeds": [
                    f"{f24}/ar/rss",
                    f"{f24}/fr/rss",
                    f"{f24}/fr/afrique/rss",
                    f"{f24}/fr/tag/mali/rss",
                    f"{f24}/en/rss",
                    f"{f24}/en/africa/rss",
                ],
                "sitemaps": [f"{f24}/sitemaps/fr/news.xml", f"{f24}/sitemaps/index.xml"],
                "sections": [f"{f24}/fr/afrique/", f"{f24}/en/africa/"],
                "allow": [r"/\d{8}-"],
                "deny": ["/video/", "/live-news/"],
            },
            "meo": {
                "name": OUTLET_NAMES["meo"],
                "feeds": [f"{meo}/rss.xml", f"{meo}/en/feed.atom"],
                "sections": [meo + render.encode_path("/" + self.chrome["meo"]["ar"]["section_title"])],
                "deny": ["/taxonomy/", "/user/", "/search"],
            },
        }


def _latest(entries) -> datetime:
    return max(entry.published for entry in entries)


def _plain_page(title: str, lang: str) -> bytes:
    html = render.environment().from_string(
        '<!DOCTYPE html><html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title></head>'
        "<body><h1>{{ title }}</h1><p>{{ title }}</p></body></html>"
    )
    return html.render(title=title, lang=lang).encode("utf-8")


def build_bundled_site(base_urls: Mapping[str, str], now: datetime) -> BuiltSite:
    """Build the bundled site for outlets "france24" and "meo" served at `base_urls`, dated from `now`."""
    builder = _Builder(base_urls, now)
    builder.build_france24()
    builder.build_meo()
    return BuiltSite(sites=dict(builder.sites), outlets=builder.registry(), articles=builder.manifest())
