"""France 24's registry rules on its real page markup, through a crawl and `sahel export`: every
byline kept, share bars, interstitials, asides, recommendation feeds and tag lists dropped, and the
date read from JSON-LD first, then from the page's publication-date element only."""

from __future__ import annotations

from pathlib import Path

from bench.served import Page, bundled_extraction, crawl_and_export, served, sources_for

BODY = [
    "Les autorités de transition du Mali ont annoncé mardi la reprise des négociations avec les groupes armés.",
    "Selon un communiqué lu à la télévision nationale, les discussions reprendront à Alger sous peu.",
    "Plusieurs organisations de la société civile ont salué cette décision tout en appelant à la prudence.",
]
BOILERPLATE = {
    "m-share-bar": "Partager sur Facebook Partager sur X Copier le lien de cet article",
    "m-interstitial": "Publicité : découvrez notre offre spéciale pour les abonnés de la chaîne",
    "o-aside-content": "Le décryptage de la rédaction sur les autres crises du continent africain",
    "ob-smartfeed-wrapper": "Contenus sponsorisés que vous pourriez aimer cette semaine sur le web",
    "m-tags-list": "Mali Sahel Afrique de l'Ouest Junte militaire Groupes armés Négociations",
}


def _page(jsonld_date: str | None, last: str) -> bytes:
    junk = "".join(f'<div class="{cls}"><p>{text}</p></div>' for cls, text in BOILERPLATE.items())
    jsonld = (
        f'<script type="application/ld+json">{{"@type": "NewsArticle", "datePublished": "{jsonld_date}"}}</script>'
        if jsonld_date
        else ""
    )
    paragraphs = "".join(f"<p>{p}</p>" for p in [*BODY, last])
    return (
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Mali</title>{jsonld}</head><body>'
        '<article><h1 class="t-content__title">Mali : reprise des négociations</h1>'
        '<p class="m-from-author"><a class="m-from-author__name">Marie Dupont</a> et '
        '<span class="m-from-author__name">Amadou Diallo</span></p>'
        '<div class="m-pub-dates"><span class="m-pub-dates__date">Publié le '
        '<time datetime="2026-11-19T07:15:00+01:00">19/11/2026</time></span></div>'
        f'<div class="t-content__body">{paragraphs}{junk}</div>'
        '<aside class="m-related-articles"><time datetime="2020-01-01T00:00:00Z">2020</time></aside>'
        "</article></body></html>"
    ).encode()


def test_france24_rules_on_its_page_markup(tmp_path: Path) -> None:
    pages = [
        Page(
            "/fr/afrique/20261119-mali-jsonld",
            _page("2026-11-19T06:00:00+00:00", "Le médiateur algérien est attendu à Bamako dès la semaine prochaine."),
        ),
        Page(
            "/fr/afrique/20261119-mali-element",
            _page(None, "La délégation malienne sera conduite par le ministre de la Réconciliation nationale."),
        ),
    ]
    with served(pages) as site:
        records = crawl_and_export(sources_for(site, "france24", bundled_extraction("france24")), tmp_path)
    by_slug = {r["url"].rsplit("/", 1)[-1]: r for r in records}
    for record in by_slug.values():
        assert record["author"] == "Marie Dupont, Amadou Diallo"
        assert record["text"].startswith(BODY[0])
        for text in BOILERPLATE.values():
            assert text not in record["text"]
    assert by_slug["20261119-mali-jsonld"]["published_at"] == "2026-11-19T06:00:00+00:00"
    assert by_slug["20261119-mali-element"]["published_at"] == "2026-11-19T06:15:00+00:00"
