"""The bundled registry's URL rules over real URL shapes of each outlet: articles (AFP live-news
dispatches included) are kept, shows and videos are dropped in every encoding a URL arrives in."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sahel_crawler.extraction.dates import url_date
from sahel_crawler.sources import load_registry

F24 = "https://www.france24.com"

# (outlet, URL shape as the outlets publish them, kept?)
SHAPES = [
    ("france24", f"{F24}/fr/afrique/20260412-mali-l-armee-annonce-la-reprise-de-kidal", True),
    ("france24", f"{F24}/en/africa/20260412-niger-junta-releases-detained-minister", True),
    ("france24", f"{F24}/en/live-news/20260412-burkina-faso-army-says-dozens-of-jihadists-killed", True),
    ("france24", f"{F24}/ar/{quote('أفريقيا')}/20260412-{quote('مالي-الجيش')}", True),
    ("france24", f"{F24}/ar/20180302-{quote('النيجر')}", True),
    ("france24", f"{F24}/fr/émissions/le-débat/20260412-sahel-quelle-stratégie", False),
    ("france24", f"{F24}/fr/%C3%A9missions/le-d%C3%A9bat/20260412-sahel", False),
    ("france24", f"{F24}/fr/vidéo/20260412-mali-images-de-kidal", False),
    ("france24", f"{F24}/fr/vid%C3%A9o/20260412-mali-images-de-kidal", False),
    ("france24", f"{F24}/ar/{quote('فيديو')}/20260412-{quote('مالي')}", False),
    ("france24", f"{F24}/en/tv-shows/the-debate/20260412-sahel-juntas", False),
    ("france24", f"{F24}/en/video/20260412-mali-footage", False),
    ("france24", f"{F24}/fr/afrique/", False),
    ("rfi_afrique", "https://www.rfi.fr/fr/afrique/20260412-mali-reprise-kidal", True),
    ("rfi_afrique", "https://www.rfi.fr/fr/podcasts/afrique-midi/20260412-edition", False),
    ("rfi_afrique", "https://www.rfi.fr/ha/nijar/20260412-labarai", False),
    ("rfi_hausa", "https://www.rfi.fr/ha/nijar/20260412-labarai-daga-yamai", True),
    ("rfi_hausa", "https://www.rfi.fr/fr/afrique/20260412-mali-reprise-kidal", False),
    ("rfi_mandenkan", "https://www.rfi.fr/ma/mali/20260412-kunnafoni", True),
    ("rfi_fulfulde", "https://www.rfi.fr/ff/afrik/20260412-kabaruuji", True),
    ("mc_doualiya", f"https://www.mc-doualiya.com/{quote('أفريقيا')}/20260412-{quote('مالي')}", True),
    ("mc_doualiya", f"https://www.mc-doualiya.com/{quote('فيديو')}/20260412-{quote('مالي')}", False),
    ("lemonde_afrique", "https://www.lemonde.fr/afrique/article/2026/04/12/au-mali-la-junte_6187099_3212.html", True),
    ("lemonde_afrique", "https://www.lemonde.fr/politique/article/2026/04/12/le-senat_6187100_823448.html", False),
    ("lemonde_afrique", "https://www.lemonde.fr/afrique/video/2026/04/12/au-mali_6187101_3212.html", False),
    ("aljazeera_ar", "https://www.aljazeera.net/news/2026/4/12/mali-army", True),
    ("aljazeera_ar", "https://www.aljazeera.net/programs/2026/4/12/sahel", False),
]


@pytest.mark.parametrize(("outlet", "url", "kept"), SHAPES, ids=[f"{o}:{u[-40:]}" for o, u, _ in SHAPES])
def test_registry_keeps_articles_and_drops_shows_and_videos(outlet: str, url: str, kept: bool) -> None:
    entry = load_registry().outlets[outlet]
    assert entry.owns(url)
    assert entry.accepts_article_url(url) is kept


SHOW_SEGMENTS = ["fr/émissions", "fr/vidéo", "ar/فيديو", "en/tv-shows"]


def _encodings(path: str) -> list[str]:
    """Every way the path may arrive: raw, NFD, percent-encoded in upper or lower case, NFD encoded."""
    nfd = unicodedata.normalize("NFD", path)
    return [path, nfd, quote(path), quote(path).lower().replace("%2f", "/"), quote(nfd)]


@given(
    segment=st.sampled_from(SHOW_SEGMENTS),
    day=st.dates(min_value=datetime(2015, 1, 1).date(), max_value=datetime(2026, 12, 31).date()),
    slug=st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàçأفريقيامالي-", min_size=1, max_size=30),
    which=st.integers(min_value=0, max_value=4),
)
def test_shows_and_videos_are_dropped_in_every_encoding(segment: str, day: object, slug: str, which: int) -> None:
    france24 = load_registry().outlets["france24"]
    path = f"/{segment}/{day:%Y%m%d}-{slug}"  # type: ignore[str-format]
    url = F24 + _encodings(path)[which]
    assert not france24.accepts_article_url(url), url


@given(
    day=st.dates(min_value=datetime(2015, 1, 1).date(), max_value=datetime(2026, 12, 31).date()),
    slug=st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True),
)
def test_afp_live_news_dispatches_are_kept(day: object, slug: str) -> None:
    france24 = load_registry().outlets["france24"]
    assert france24.accepts_article_url(f"{F24}/en/live-news/{day:%Y%m%d}-{slug}")  # type: ignore[str-format]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.aljazeera.net/news/2026/4/12/mali-army", datetime(2026, 4, 12, tzinfo=UTC)),
        ("https://www.aljazeera.net/news/2025/11/3/niger", datetime(2025, 11, 3, tzinfo=UTC)),
        ("https://www.aljazeera.net/news/2025/12/31/sahel", datetime(2025, 12, 31, tzinfo=UTC)),
        ("https://www.france24.com/fr/afrique/20260412-mali", datetime(2026, 4, 12, tzinfo=UTC)),
        ("https://www.aljazeera.net/news/2025/13/3/niger", None),
    ],
)
def test_article_urls_with_unpadded_dates_are_read_as_dates(url: str, expected: datetime | None) -> None:
    assert url_date(url) == expected


def test_rfi_has_no_arabic_feed_and_the_group_s_arabic_outlet_is_listed() -> None:
    registry = load_registry()
    every_url = [u for o in registry.outlets.values() for _, u in o.start_urls()]
    assert not any("rfi.fr/ar/" in u for u in every_url)
    assert "www.mc-doualiya.com" in registry.outlets["mc_doualiya"].hosts
    assert "https://www.france24.com/sitemaps/ar/news.xml" in registry.outlets["france24"].sitemaps
    assert "https://www.lemonde.fr/sitemap_news.xml" in registry.outlets["lemonde_afrique"].sitemaps
    assert "https://www.rfi.fr/sitemaps/fr/news.xml" in registry.outlets["rfi_afrique"].sitemaps


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("country", "France", r"key 'country': must be a code such as FR \(ISO 3166\)"),
        ("kind", "tv", "key 'kind': must be one of agency, broadcaster"),
        ("state_affiliated", "yes", "key 'state_affiliated': must be one of state-funded"),
        ("languages", ["French"], r"key 'languages.*': must be a code such as fr \(ISO 639\)"),
        ("owner", "", "key 'owner': must be a non-empty string"),
    ],
)
def test_outlet_metadata_is_checked_when_the_registry_loads(tmp_path, key: str, value: object, message: str) -> None:
    import yaml

    from sahel_crawler.sources import RegistryError

    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"outlets": {"x": {"name": "X", "feeds": ["https://x.test/rss"], key: value}}}))
    with pytest.raises(RegistryError, match=rf"outlet 'x': {message}"):
        load_registry(path)
