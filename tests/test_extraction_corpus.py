"""The extraction stage on real saved pages from ../shared/corpus (skipped when it is absent)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import trafilatura

from sahel_crawler.extraction import extract_article
from sahel_crawler.extraction.scoring import aggregate, score_page
from tests.conftest import CORPUS

F24_EN = CORPUS / "france24" / "readability-pr224-france24-1"
F24_FR = CORPUS / "france24" / "gxml-2017-fr"
DATES = CORPUS / "htmldate-arabic-dates"
CNN_AR = CORPUS / "arabic-extraction" / "newspaper4k"
BENCHMARK = CORPUS / "article-extraction-benchmark"


def need(path: Path) -> None:
    """Skip the test when a corpus folder is missing."""
    if not path.exists():
        pytest.skip(f"corpus material not found at {path} (see {CORPUS / 'README.md'})")


def test_france24_english_2015_page() -> None:
    need(F24_EN)
    html = (F24_EN / "source.html").read_text(encoding="utf-8")
    expected = json.loads((F24_EN / "expected-metadata.json").read_text(encoding="utf-8"))
    art = extract_article(html, "http://www.france24.com/en/20150512-bangladesh-third-blogger-hacked-death")
    assert art is not None
    assert art.title == expected["title"]
    assert art.author == "NEWS WIRES"
    assert art.published_at == datetime(2015, 5, 12, tzinfo=UTC)
    assert art.published_at_source == "url"
    assert art.language_hint == "en"
    assert expected["excerpt"] in art.text
    assert "Their deaths followed the similar killing in 2013 of Ahmed Rajib Haider" in art.text
    # navigation, related article, footer
    for junk in ("Filter the page", "Atheist US blogger hacked to death", "Press kit", "Terms of use"):
        assert junk not in art.text
    # the headline is the title, not the first line of the body
    assert not art.text.startswith("Third blogger hacked to death")


def test_france24_french_2017_page() -> None:
    need(F24_FR)
    html = (F24_FR / "france24_fr_20171021_climat_chine.html").read_text(encoding="utf-8")
    url = "http://www.france24.com/fr/20171021-chine-charbon-centrale-etranger-energie-environnement-leader-climat"
    art = extract_article(html, url)
    assert art is not None
    assert art.title == "Climat : la Chine est-elle le nouveau leader ?"
    assert art.author is not None and "Marina BERTSCH" in art.author
    # JSON-LD says 18:01:28Z, the meta tag 18:01:28+02:00: JSON-LD is trusted first
    assert art.published_at == datetime(2017, 10, 18, 18, 1, 28, tzinfo=UTC)
    assert art.published_at_source == "jsonld"
    assert art.published_on == date(2017, 10, 18)
    assert art.language_hint == "fr"
    assert art.canonical_url == url
    assert "La Chine poursuit sa politique charbon à l’étranger." in art.text
    for junk in ("loginWidget", "signInForm", "Tweeter", "© Capture France 24"):
        assert junk not in art.text


def _date_cases() -> list[tuple[str, str, str]]:
    if not (DATES / "labels.json").is_file():
        return []
    labels = json.loads((DATES / "labels.json").read_text(encoding="utf-8"))
    return [(url, label["file"], label["date"]) for url, label in labels.items()]


@pytest.mark.skipif(not (DATES / "labels.json").is_file(), reason=f"corpus material not found at {DATES}")
@pytest.mark.parametrize(("url", "file", "gold"), _date_cases(), ids=[c[1] for c in _date_cases()])
def test_arabic_publication_dates(url: str, file: str, gold: str) -> None:
    html = (DATES / file).read_text(encoding="utf-8", errors="replace")
    art = extract_article(html, url)
    assert art is not None
    assert art.published_on == date.fromisoformat(gold)
    assert art.published_at is not None and art.published_at.tzinfo == UTC
    assert art.published_at_source in {"jsonld", "meta", "url", "htmldate"}


def test_cnn_arabic_page_text() -> None:
    need(CNN_AR)
    html = (CNN_AR / "arabic_article.html").read_text(encoding="utf-8")
    expected = (CNN_AR / "arabic_article.txt").read_text(encoding="utf-8")
    url = json.loads((CNN_AR / "arabic_article.json").read_text(encoding="utf-8"))["url"]
    art = extract_article(html, url)
    assert art is not None
    assert art.title == "معارضون يسيطرون على مخازن للصواريخ بريف دمشق"
    assert art.language_hint == "ar"
    assert art.text.startswith("دمشق، سوريا (CNN) -- أكدت جهات سورية معارضة")
    assert expected.strip()[-60:] in art.text
    ours = aggregate([score_page(expected, art.text)])["f1"]
    baseline = aggregate([score_page(expected, trafilatura.extract(html, include_comments=False))])["f1"]
    assert ours >= baseline


def test_benchmark_subset_not_worse_than_plain_trafilatura() -> None:
    """On 30 benchmark pages, our F1 is at least plain trafilatura's F1 measured in the same run."""
    need(BENCHMARK / "ground-truth.json")
    truth = json.loads((BENCHMARK / "ground-truth.json").read_text(encoding="utf-8"))
    ours, base, with_text = [], [], 0
    for key in sorted(truth)[::6][:30]:  # spread over the whole set
        with gzip.open(BENCHMARK / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as f:
            html = f.read()
        expected = truth[key]["articleBody"]
        art = extract_article(html, truth[key].get("url", ""))
        with_text += art is not None
        ours.append(score_page(expected, art.text if art else None))
        base.append(score_page(expected, trafilatura.extract(html, include_comments=False)))
    assert with_text >= 0.95 * len(ours)
    assert aggregate(ours)["f1"] >= aggregate(base)["f1"]


def _wrapped_in_divs(html: str, levels: int, attributes: str = "") -> str:
    """The page's body content inside `levels` nested divs, as some CMS templates and ad wrappers nest."""
    head, body_tag, rest = html.partition("<body")
    open_end = rest.index(">") + 1
    inner, _, tail = rest[open_end:].rpartition("</body>")
    return f"{head}{body_tag}{rest[:open_end]}{f'<div{attributes}>' * levels}{inner}{'</div>' * levels}</body>{tail}"


@pytest.mark.parametrize("attributes", ["", ' class="wrapper"'], ids=["bare", "with-class"])
def test_a_real_article_wrapped_in_300_divs_keeps_its_text(attributes: str) -> None:
    need(F24_FR)
    html = (F24_FR / "france24_fr_20171021_climat_chine.html").read_text(encoding="utf-8")
    url = "http://www.france24.com/fr/20171021-chine-charbon-centrale-etranger-energie-environnement-leader-climat"
    plain = extract_article(html, url)

    art = extract_article(_wrapped_in_divs(html, 300, attributes), url)

    assert art is not None and plain is not None
    assert art.title == plain.title
    assert len(art.text) >= 0.9 * len(plain.text)
    assert plain.text.split("\n")[-1] in art.text  # the end of the article is not cut off


@pytest.mark.parametrize("depth", [200, 1_000, 5_000])
def test_a_real_article_beside_deeply_nested_json_ld_keeps_its_text_and_metadata(depth: int) -> None:
    need(F24_FR)
    html = (F24_FR / "france24_fr_20171021_climat_chine.html").read_text(encoding="utf-8")
    url = "http://www.france24.com/fr/20171021-chine-charbon-centrale-etranger-energie-environnement-leader-climat"
    plain = extract_article(html, url)
    deep = '{"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": '
    deep += '{"item": ' * depth + '"x"' + "}" * depth + "}"
    block = f'<script type="application/ld+json">{deep}</script>'

    head_end = html.index(">", html.index("<head")) + 1  # before the page's own JSON-LD, read first

    art = extract_article(html[:head_end] + block + html[head_end:], url)

    assert art is not None and plain is not None
    assert (art.title, art.author, art.published_at, art.text) == (
        plain.title,
        plain.author,
        plain.published_at,
        plain.text,
    )
