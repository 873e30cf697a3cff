"""The standfirst is its own stored field: the lead paragraph shown on the page leads the stored
text, a meta description written for search engines does not. Checked through a real crawl of
pages served locally and `sahel export`."""

from __future__ import annotations

from pathlib import Path

from bench.served import Page, bundled_extraction, crawl_and_export, served, sources_for

BODY = [
    "Les autorités de transition du Mali ont annoncé mardi la reprise des négociations avec les groupes armés du nord.",
    "Selon un communiqué lu à la télévision nationale, les discussions reprendront à Alger sous peu.",
    "Plusieurs organisations de la société civile ont salué cette décision tout en appelant à la prudence.",
]
SEO = "Mali : tout savoir sur la reprise des négociations, les enjeux et les acteurs, notre dossier complet."
ECHO_END = "Le médiateur algérien doit se rendre à Bamako puis à Kidal avant la fin du mois, selon la même source."
REPEAT = BODY[0].replace(" du Mali ", " du Mali, ") + " " + BODY[1]
CHAPO = "À Bamako, la junte relance un processus de paix à l'arrêt depuis deux ans, sous la pression des voisins."


def _page(title: str, description: str, lead_html: str, body: list[str] = BODY) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in body)
    return (
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta property="og:description" content="{description}">'
        f'<meta property="article:published_time" content="2026-11-19T08:00:00+00:00"></head><body>'
        f'<nav><a href="/">Accueil</a></nav><main><article><h1 class="t-content__title">{title}</h1>'
        f'{lead_html}<div class="t-content__body">{paragraphs}</div></article></main>'
        "<footer>Tous droits réservés</footer></body></html>"
    ).encode()


def test_visible_chapo_leads_the_text_and_a_search_description_does_not(tmp_path: Path) -> None:
    pages = [
        Page("/fr/afrique/20261119-mali-chapo", _page("Mali : la junte relance la paix", CHAPO,
                                                       f'<p class="t-content__chapo">{CHAPO}</p>')),
        Page("/fr/afrique/20261119-mali-seo", _page("Mali : reprise des négociations", SEO, "")),
        # the description repeats the body's first paragraphs with other punctuation
        Page("/fr/afrique/20261119-mali-echo", _page("Mali : l'écho", REPEAT, "", [*BODY, ECHO_END])),
    ]  # fmt: skip
    with served(pages) as site:
        records = crawl_and_export(sources_for(site, "france24", bundled_extraction("france24")), tmp_path)
    by_path = {r["url"].rsplit("/", 1)[-1]: r for r in records}
    assert set(by_path) == {"20261119-mali-chapo", "20261119-mali-seo", "20261119-mali-echo"}

    chapo = by_path["20261119-mali-chapo"]
    assert chapo["standfirst"] == CHAPO
    assert chapo["text"].startswith(CHAPO + "\n")
    assert chapo["text"].count(CHAPO) == 1

    seo = by_path["20261119-mali-seo"]
    assert seo["standfirst"] is None
    assert SEO not in seo["text"]
    assert seo["text"].startswith(BODY[0])

    echo = by_path["20261119-mali-echo"]
    assert echo["standfirst"] == REPEAT
    assert echo["text"].count("Alger") == 1, "the repeated description was stored before the body"
