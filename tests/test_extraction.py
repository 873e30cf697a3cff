"""The extraction stage on real-shaped pages built in the test: fields, fill-in, rules, bad input."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sahel_crawler.extraction import ExtractionRules, extract_article, extract_or_reason

# Wire-copy style paragraphs written for the project.
AR_PARAS = [
    "أعلنت السلطات في مالي اليوم عن إطلاق برنامج جديد لدعم المزارعين في منطقة موبتي"
    " بعد موسم جفاف طويل أثر على المحاصيل.",
    "وقال وزير الزراعة في مؤتمر صحفي في باماكو إن البرنامج يشمل توزيع البذور والأسمدة على أكثر من عشرين ألف أسرة.",
    "وأضاف أن الحكومة تعمل مع شركائها في منطقة الساحل لتحسين الأمن الغذائي وتقليل آثار التغير المناخي على السكان.",
]
FR_PARAS = [
    "Les autorités nigériennes ont annoncé mardi l'ouverture d'un nouveau corridor routier"
    " entre Niamey et la frontière béninoise.",
    "Selon le ministre des Transports, la route doit faciliter l'acheminement des marchandises"
    " vers le port de Cotonou.",
    "Les transporteurs saluent la décision mais réclament davantage de sécurité sur les axes du sud-ouest du pays.",
]
BOILERPLATE = {
    "nav": "Accueil Afrique Moyen-Orient Europe Sport Culture",
    "cookie": "Nous utilisons des cookies pour améliorer votre expérience",
    "related": "Lire aussi : le Sahel face à la sécheresse",
    "footer": "Tous droits réservés France Médias Monde",
}


def france24_page(
    paras: list[str],
    *,
    lang: str = "fr",
    jsonld: dict | None = None,
    head_extra: str = "",
    body_class: str = "t-content__body",
) -> str:
    """A France 24-shaped article page: JSON-LD, nav, cookie banner, related list, footer."""
    ld = f'<script type="application/ld+json">{json.dumps(jsonld)}</script>' if jsonld else ""
    body = "".join(f"<p>{p}</p>" for p in paras)
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">
<title>Titre de la page - France 24</title>{head_extra}{ld}</head><body>
<div class="m-cookie-banner"><p>{BOILERPLATE["cookie"]}</p><button>Accepter</button></div>
<nav class="m-menu"><ul>{"".join(f'<li><a href="/fr/{w}">{w}</a></li>' for w in BOILERPLATE["nav"].split())}</ul></nav>
<main><article class="t-content">
<h1 class="t-content__title">Un titre d'article</h1>
<p class="t-content__chapo">Le chapeau de l'article.</p>
<a class="m-from-author__name" href="/fr/auteur/a">Aminata Traoré</a>
<time datetime="2024-03-05T09:30:00+01:00">5 mars 2024</time>
<div class="{body_class}">{body}
<div class="m-related"><h3>À lire aussi</h3><ul><li><a href="/fr/afrique/1">{BOILERPLATE["related"]}</a></li></ul></div>
</div></article></main>
<footer><p>{BOILERPLATE["footer"]}</p></footer></body></html>"""


NEWS_LD = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "WebSite", "name": "France 24"},
        {
            "@type": "NewsArticle",
            "headline": "Niger : un nouveau corridor routier vers le Bénin",
            "datePublished": "2024-03-05T09:30:00+01:00",
            "author": [{"@type": "Person", "name": "Aminata Traoré"}],
            "description": "Le corridor doit faciliter le commerce.",
            "inLanguage": "fr-FR",
        },
    ],
}


def test_france24_shaped_page_fields_text_and_no_boilerplate() -> None:
    url = "https://www.france24.com/fr/afrique/20240305-niger-corridor-routier"
    art = extract_article(france24_page(FR_PARAS, jsonld=NEWS_LD), url)
    assert art is not None
    assert art.title == "Niger : un nouveau corridor routier vers le Bénin"
    assert art.author == "Aminata Traoré"
    assert art.published_at == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    assert art.published_at_source == "jsonld"
    assert art.published_on == date(2024, 3, 5)
    assert art.language_hint == "fr"
    assert art.description == "Le corridor doit faciliter le commerce."
    for para in FR_PARAS:
        assert para in art.text.split("\n")
    for junk in BOILERPLATE.values():
        assert junk not in art.text


def test_open_graph_and_meta_fill_in_without_jsonld() -> None:
    head = """<meta property="og:title" content="Mali : aide aux agriculteurs">
<meta property="og:description" content="Un programme pour les agriculteurs de Mopti.">
<meta property="og:url" content="/ar/20240305-mali-agriculture">
<meta property="og:locale" content="ar_AR">
<meta property="article:published_time" content="2024-03-05T23:15:00+00:00">
<meta name="author" content="https://www.facebook.com/france24">"""
    html = france24_page(AR_PARAS, lang="", head_extra=head).replace('<html lang="">', "<html>")
    art = extract_article(html, "https://www.france24.com/ar/page")
    assert art is not None
    assert art.description == "Un programme pour les agriculteurs de Mopti."
    assert art.canonical_url == "https://www.france24.com/ar/20240305-mali-agriculture"
    assert art.language_hint == "ar"
    assert art.published_at == datetime(2024, 3, 5, 23, 15, tzinfo=UTC)
    assert art.published_at_source == "meta"
    assert art.author != "https://www.facebook.com/france24"
    assert AR_PARAS[1] in art.text


def test_naive_jsonld_date_yields_to_meta_date_with_offset() -> None:
    ld = {"@type": "NewsArticle", "headline": "Titre", "datePublished": "2017-10-18T18:01:28"}
    head = '<meta property="article:published_time" content="2017-10-18T18:01:28+02:00">'
    art = extract_article(france24_page(FR_PARAS, jsonld=ld, head_extra=head), "https://example.org/a")
    assert art is not None
    assert art.published_at == datetime(2017, 10, 18, 16, 1, 28, tzinfo=UTC)
    assert art.published_on == date(2017, 10, 18)


def test_date_from_url_when_the_page_declares_none() -> None:
    html = france24_page(FR_PARAS).replace('<time datetime="2024-03-05T09:30:00+01:00">5 mars 2024</time>', "")
    art = extract_article(html, "https://www.france24.com/fr/afrique/20231130-niger-corridor")
    assert art is not None
    assert art.published_at == datetime(2023, 11, 30, tzinfo=UTC)
    assert art.published_at_source == "url"


def test_windows_1256_page_decoded_by_the_caller() -> None:
    page = f"""<html lang="ar" dir="rtl"><head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">
<title>مالي: برنامج لدعم المزارعين</title></head><body>
<div id="menu"><a href="/">الرئيسية</a> <a href="/world">العالم</a></div>
<div class="article"><h1>مالي: برنامج لدعم المزارعين</h1>{"".join(f"<p>{p}</p>" for p in AR_PARAS)}</div>
<div id="footer">جميع الحقوق محفوظة</div></body></html>"""
    raw = page.encode("cp1256")  # what the server sends
    decoded = raw.decode("cp1256")  # what Scrapy's response.text gives from the declared charset
    art = extract_article(decoded, "https://middle-east-online.com/%D9%85%D8%A7%D9%84%D9%8A")
    assert art is not None
    assert art.title == "مالي: برنامج لدعم المزارعين"
    assert art.language_hint == "ar"
    for para in AR_PARAS:
        assert para in art.text
    assert "جميع الحقوق محفوظة" not in art.text


def test_jsonld_article_body_used_when_visible_body_is_missed() -> None:
    # The body sits in a container whose class name reads as boilerplate to the generic extractor.
    body = "\n".join(FR_PARAS)
    ld = {"@type": "NewsArticle", "headline": "Titre", "articleBody": body}
    html = f"""<html lang="fr"><head><script type="application/ld+json">{json.dumps(ld)}</script></head>
<body><nav><a href="/">Accueil</a></nav><div class="sidebar">
{"".join(f"<p>{p}</p>" for p in FR_PARAS)}</div></body></html>"""
    art = extract_article(html, "https://example.org/a")
    assert art is not None
    assert art.text == body


def test_jsonld_article_body_not_shown_on_the_page_is_not_trusted() -> None:
    ld = {"@type": "NewsArticle", "headline": "Titre", "articleBody": " ".join(FR_PARAS) * 5}
    html = france24_page(AR_PARAS[:1], jsonld=ld)
    art = extract_article(html, "https://example.org/a")
    assert art is not None
    assert FR_PARAS[0] not in art.text
    assert AR_PARAS[0] in art.text


# -- per-outlet rules -------------------------------------------------------------------


def test_rule_body_selector_and_drop_selectors() -> None:
    # Body split over two containers whose text trafilatura would not join in that order.
    html = france24_page(FR_PARAS[:1]).replace(
        "</article>",
        f'</article><div class="t-content__body-more"><p>{FR_PARAS[2]}</p>'
        '<div class="m-em-share">Partager sur Facebook Partager sur X</div></div>',
    )
    rules = ExtractionRules.from_mapping(
        {
            "body_selector": "div.t-content__body, div.t-content__body-more",
            "drop_selectors": [".m-related", ".m-em-share"],
        }
    )
    art = extract_article(html, "https://www.france24.com/fr/a", rules=rules)
    assert art is not None
    assert art.text.split("\n") == [FR_PARAS[0], FR_PARAS[2]]


def test_rule_drop_selectors_alone_prune_before_generic_extraction() -> None:
    html = france24_page(FR_PARAS).replace(
        f"<p>{FR_PARAS[1]}</p>", f'<p>{FR_PARAS[1]}</p><p class="m-em-quote">Publicité interne du site</p>'
    )
    plain = extract_article(html, "https://www.france24.com/fr/a")
    ruled = extract_article(
        html, "https://www.france24.com/fr/a", rules=ExtractionRules(drop_selectors=(".m-em-quote",))
    )
    assert plain is not None and ruled is not None
    assert "Publicité interne du site" in plain.text  # the generic extractor keeps it ...
    assert "Publicité interne du site" not in ruled.text  # ... the outlet rule removes it
    assert FR_PARAS[2] in ruled.text


def test_rule_title_author_and_date_selectors_win() -> None:
    rules = ExtractionRules(
        title_selector="h1.t-content__title",
        author_selector="a.m-from-author__name",
        date_selector="time[datetime]",
    )
    ld = {"@type": "NewsArticle", "headline": "Autre titre", "datePublished": "2020-01-01T00:00:00Z"}
    art = extract_article(france24_page(FR_PARAS, jsonld=ld), "https://www.france24.com/fr/a", rules=rules)
    assert art is not None
    assert art.title == "Un titre d'article"
    assert art.author == "Aminata Traoré"
    assert art.published_at == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    assert art.published_at_source == "rule"


def test_rule_body_selector_that_matches_nothing_falls_back_to_generic() -> None:
    rules = ExtractionRules(body_selector="div.does-not-exist")
    art = extract_article(france24_page(FR_PARAS), "https://www.france24.com/fr/a", rules=rules)
    assert art is not None
    assert FR_PARAS[0] in art.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body_selectr": "div"}, "body_selectr"),
        ({"body_selector": "div[["}, "invalid CSS selector"),
        ({"body_selector": ""}, "body_selector"),
        ({"body_selector": 3}, "body_selector"),
        ({"drop_selectors": ".related"}, "drop_selectors"),
        ({"drop_selectors": [".ok", ""]}, "drop_selectors"),
        ({"date_selector": "time[datetime"}, "invalid CSS selector"),
        (["body_selector"], "mapping"),
    ],
)
def test_rules_from_mapping_rejects_bad_keys_and_values(data, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ExtractionRules.from_mapping(data)


def test_rules_from_mapping_accepts_registry_shape() -> None:
    rules = ExtractionRules.from_mapping({"body_selector": "div.t-content__body", "drop_selectors": [".m-related"]})
    assert rules == ExtractionRules(body_selector="div.t-content__body", drop_selectors=(".m-related",))
    assert ExtractionRules.from_mapping({}) == ExtractionRules()
    assert ExtractionRules.from_mapping(None) == ExtractionRules()


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   \n ",
        "<html><body></body></html>",
        "<html><head><title>Only a title</title></head><body><nav><a href='/'>Home</a></nav></body></html>",
        "\x00\x01\x02 binary garbage \xff\xfe",
        "<" * 5000,
        '<?xml version="1.0" encoding="utf-8"?><html><body></body></html>',
    ],
)
def test_pages_without_article_text_give_none(html: str) -> None:
    assert extract_article(html, "https://example.org/a") is None


def test_non_string_input_gives_none() -> None:
    assert extract_article(b"<html><body><p>bytes</p></body></html>", "https://example.org/a") is None  # type: ignore[arg-type]


def test_huge_page_is_cut_not_fatal() -> None:
    html = france24_page(FR_PARAS).replace("</footer>", "</footer>" + "<div>x</div>" * 300_000)
    art = extract_article(html, "https://example.org/a", max_chars=200_000)
    assert art is not None
    assert FR_PARAS[0] in art.text


_TAGS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div class='a'>",
        "</div>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "<html>",
        "<body>",
        "<br/>",
        "<![CDATA[",
        "]]>",
        "<table><tr><td>",
        "&amp;",
        "&#0;",
        '<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"9999"}',
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_TAGS, st.text(max_size=40)), max_size=40), st.text(max_size=30))
def test_never_raises_on_html_like_input(parts: list[str], url: str) -> None:
    result = extract_article("".join(parts), url)
    assert result is None or result.text.strip()


# Control characters no XML tree can hold: once parsed from a reference, one of them anywhere in
# the page left the whole article without text.
_CONTROL_CODES = st.sampled_from([*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])
_SPELLINGS = st.sampled_from(["&#{};", "&#x{:X};", "&#x{:x};", "&#{}", "&#0{}", "raw"])


def _control(code: int, spelling: str) -> str:
    return chr(code) if spelling == "raw" else spelling.format(code)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_CONTROL_CODES, _SPELLINGS, st.sampled_from(["title", "h1", "chapo", "body", "footer", "head"]))
def test_a_control_character_anywhere_leaves_the_article_intact(code: int, spelling: str, where: str) -> None:
    anchors = {
        "title": "<title>Titre", "h1": "Un titre", "chapo": "Le chapeau", "body": FR_PARAS[1][:20],
        "footer": BOILERPLATE["footer"], "head": "<head>",
    }  # fmt: skip
    page = france24_page(FR_PARAS, jsonld=NEWS_LD)
    page = page.replace(anchors[where], anchors[where] + _control(code, spelling), 1)

    art = extract_article(page, "https://www.france24.com/fr/afrique/20240305-niger-corridor-routier")

    assert art is not None
    assert FR_PARAS[0] in art.text and FR_PARAS[2] in art.text
    assert not any(chr(c) in art.text + (art.title or "") for c in [*range(0x01, 0x09), *range(0x0E, 0x20)])


def test_a_page_without_text_says_why() -> None:
    nav_only = "<html><body><nav><a href='/'>Accueil</a></nav><p>Court.</p></body></html>"

    assert extract_or_reason("", "https://example.org/a") == "empty page"
    assert extract_or_reason(nav_only, "https://example.org/a").startswith("no article text found")
