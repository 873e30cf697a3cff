"""The sources registry: the bundled file loads, and outlets keep to their hosts and rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from sahel_crawler.sources import RegistryError, load_registry, registry_from_settings
from tests.conftest import project_crawler


def test_bundled_registry_covers_the_main_outlets() -> None:
    registry = load_registry()
    assert {"france24", "meo"} <= set(registry.outlets)
    france24 = registry.outlets["france24"]
    assert "https://www.france24.com/ar/rss" in france24.feeds
    assert "www.france24.com" in france24.hosts
    for outlet in registry.outlets.values():
        assert outlet.start_urls(), outlet.id


def test_allow_and_deny_rules() -> None:
    france24 = load_registry().outlets["france24"]
    assert france24.accepts_article_url("https://www.france24.com/fr/afrique/20261120-mali-kidal")
    assert not france24.accepts_article_url("https://www.france24.com/fr/video/20261120-mali-kidal")
    assert not france24.accepts_article_url("https://www.france24.com/fr/afrique/")
    assert france24.owns("https://WWW.FRANCE24.COM/fr/")
    assert not france24.owns("https://middle-east-online.com/x")


def test_select_unknown_outlet_names_the_known_ones() -> None:
    with pytest.raises(RegistryError, match=r"unknown outlet nope; known: .*france24"):
        load_registry().select(["nope"])


def test_outlet_id_must_be_slug(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("outlets:\n  'France 24':\n    name: F\n    feeds: [https://a.test/rss]\n")
    with pytest.raises(RegistryError, match=r"outlet 'France 24': outlet id must match"):
        load_registry(path)


def test_per_outlet_rules_are_validated_on_load(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("outlets:\n  a:\n    name: A\n    feeds: [https://a.test/rss]\n    extraction: {body: x}\n")
    with pytest.raises(RegistryError, match=r"outlet 'a': key 'extraction': .*body"):
        load_registry(path)
    path.write_text("outlets:\n  a:\n    name: A\n    feeds: [https://a.test/rss]\n    urls: [x]\n")
    with pytest.raises(RegistryError, match=r"outlet 'a': key 'urls' must be a mapping"):
        load_registry(path)


def test_bundled_france24_rules_fold_mobile_and_amp_hosts() -> None:
    from sahel_crawler.text.urls import canonicalize_url

    france24 = load_registry().outlets["france24"]
    url = "http://amp.france24.com/fr/afrique/20261120-mali-kidal?xtor=RSS-1#top"
    assert canonicalize_url(url, rules=france24.urls) == "https://www.france24.com/fr/afrique/20261120-mali-kidal"
    assert france24.extraction.title_selector == "h1.t-content__title"


def _write_registry(path: Path, feed: str) -> None:
    path.write_text(f"outlets:\n  a:\n    name: A\n    feeds: [{feed}]\n", encoding="utf-8")


def test_the_components_of_one_crawl_share_one_registry(tmp_path: Path) -> None:

    from pipelines.canonical import CanonicalUrlPipeline
    from sahel_crawler.spiders.news import NewsSpider

    sources = tmp_path / "sources.yaml"
    _write_registry(sources, "https://a.test/rss")
    crawler = project_crawler(NewsSpider, {"SAHEL_SOURCES_PATH": str(sources)})
    spider = NewsSpider.from_crawler(crawler)
    pipeline = CanonicalUrlPipeline.from_crawler(crawler)
    assert spider.outlets["a"] is pipeline.outlets["a"]
    assert registry_from_settings(crawler.settings) is load_registry(tmp_path / "." / "sources.yaml")


def test_a_changed_registry_file_is_read_again(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    _write_registry(sources, "https://a.test/rss")
    first = load_registry(sources)
    assert load_registry(sources) is first
    # Same size, and rewritten at once: within one tick of the file system's clock.
    _write_registry(sources, "https://b.test/rss")
    second = load_registry(sources)
    assert second is not first and second.outlets["a"].feeds == ("https://b.test/rss",)
    sources.write_text("outlets: [", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"sources\.yaml: malformed YAML"):
        load_registry(sources)
    _write_registry(sources, "https://b.test/rss")
    assert load_registry(sources).outlets["a"].feeds == ("https://b.test/rss",)


def test_outlets_own_their_hosts_subdomains_and_internationalised_names(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "outlets:\n"
        "  arab:\n    name: Arab\n    feeds: ['http://مثال.example/rss']\n"
        "  plain:\n    name: Plain\n    feeds: ['https://Example.org/feed']\n",
        encoding="utf-8",
    )
    outlets = load_registry(str(path)).outlets
    # Scrapy requests an internationalised host in its punycode form: the outlet must own it
    # (and Scrapy's offsite filter gets that form from the outlet's hosts).
    assert outlets["arab"].hosts == {"xn--mgbh0fb.example"}
    assert outlets["arab"].owns("http://xn--mgbh0fb.example/a/1")
    assert outlets["arab"].owns("http://مثال.example/a/1")
    # a feed at example.org may list www.example.org articles, as Scrapy's offsite rule allows
    assert outlets["plain"].owns("https://www.example.org/a/1")
    assert not outlets["plain"].owns("https://badexample.org/a/1")
    assert not outlets["plain"].owns("https://example.org.evil.test/a/1")
    assert not outlets["plain"].owns("http://[::1/a")
