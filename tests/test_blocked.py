"""An outlet that refuses its article pages (403) while its feed stays readable: the crawl stores
the feed's teasers, `sahel health` reports the outlet blocked with the status and since when, and
once the pages answer again the teasers are replaced in place by the articles."""

from __future__ import annotations

import json
from pathlib import Path

from bench.served import Page, crawl_and_export, run_cli, served, sources_for
from tests.faults.site import article_html

PATHS = ["/fr/afrique/20261119-mali-kidal", "/fr/afrique/20261119-niger-niamey"]
TITLES = ["Mali : l'armée reprend Kidal", "Niger : Niamey ferme sa frontière"]
TEASERS = [
    "L'armée malienne annonce avoir repris le contrôle de Kidal après trois jours de combats.",
    "Les autorités nigériennes ont fermé la frontière avec le Bénin, invoquant des raisons de sécurité.",
]
BODIES = [
    [TEASERS[0], "Les combats ont opposé l'armée aux groupes armés du nord pendant trois jours entiers."] * 3,
    [TEASERS[1], "La fermeture touche le corridor routier qui relie Niamey au port de Cotonou depuis des années."] * 3,
]
REFUSED = b"<html><body><h1>Access denied</h1><p>You don't have permission to access this page.</p></body></html>"


def _refused(i: int) -> Page:
    return Page(PATHS[i], REFUSED, status=403, title=TITLES[i], description=TEASERS[i])


def _health(folder: Path) -> dict:
    result = run_cli("health", "--db", f"sqlite:///{folder / 'sahel.db'}", "--json")
    assert result.returncode == 0, result.stderr
    return {r["outlet"]: r for r in map(json.loads, result.stdout.splitlines())}


def test_refused_article_pages_leave_feed_teasers_and_a_blocked_outlet(tmp_path: Path) -> None:
    with served([_refused(0), _refused(1)]) as site:
        sources = sources_for(site, "refusing")
        teasers = {r["url"]: r for r in crawl_and_export(sources, tmp_path)}
        assert set(teasers) == {site.url(p) for p in PATHS}
        for i, path in enumerate(PATHS):
            record = teasers[site.url(path)]
            assert record["text_source"] == "feed"
            assert record["title"] == TITLES[i]
            assert record["text"] == TEASERS[i]
            assert record["published_at"] == "2026-11-19T08:00:00+00:00"
            assert record["author"]
        health = _health(tmp_path)["refusing"]
        assert health["status"] == "blocked"
        assert health["blocked_status"] == "HTTP 403"
        assert health["blocked_since"] is not None
        text = run_cli("health", "--db", f"sqlite:///{tmp_path / 'sahel.db'}")
        assert "blocked (HTTP 403 since " in text.stdout

        for i, path in enumerate(PATHS):  # the outlet serves its pages again
            html = article_html(TITLES[i], BODIES[i], "fr").encode()
            site.routes[path] = Page(path, html, title=TITLES[i], description=TEASERS[i])
        articles = {r["url"]: r for r in crawl_and_export(sources, tmp_path)}
    assert set(articles) == set(teasers), "the teasers were not replaced in place"
    for i, path in enumerate(PATHS):
        record = articles[site.url(path)]
        assert record["text_source"] == "page"
        assert "corridor routier" in record["text"] or "groupes armés" in record["text"]
        assert len(record["text"]) > len(TEASERS[i])
    assert _health(tmp_path)["refusing"]["status"] != "blocked"


CHALLENGE = (
    "<html><head><title>Just a moment...</title></head><body><h1>Checking your browser before accessing"
    " the site.</h1><p>This process is automatic. Ray ID: {ray}</p></body></html>"
)


def test_a_bot_challenge_served_on_many_article_urls_is_reported_blocked(tmp_path: Path) -> None:
    paths = [f"/fr/afrique/2026111{i}-mali-depeche-{i}" for i in range(5)]
    pages = [
        Page(p, CHALLENGE.format(ray=f"8c{i}f3a9e{i * 7}").encode(), title=f"Mali : dépêche {i}",
             description=f"Dépêche {i} sur la situation au Mali, selon les autorités de transition.")
        for i, p in enumerate(paths)
    ]  # fmt: skip
    with served(pages) as site:
        records = crawl_and_export(sources_for(site, "challenging"), tmp_path)
    assert records, "no feed teaser was kept"
    assert all(r["text_source"] == "feed" and "Checking your browser" not in r["text"] for r in records)
    health = _health(tmp_path)["challenging"]
    assert health["status"] == "blocked"
    assert health["blocked_status"] == "bot challenge page"
