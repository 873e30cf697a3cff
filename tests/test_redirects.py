"""Redirects between outlets: one crawl of two outlets on two loopback hosts, with a third host
that belongs to no outlet. A request made for an outlet stays on that outlet's hosts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from sahel_crawler.demo import REPLAY_OVERRIDES, settings_args
from tests.faults import FaultServer
from tests.faults import resources as r
from tests.faults.process import Measured, run_measured
from tests.faults.site import DAY, article_html
from tests.faults.texts import french_paragraphs

pytestmark = pytest.mark.slow


@dataclass
class RedirectCrawl:
    alpha: FaultServer
    beta: FaultServer
    elsewhere: FaultServer
    stored: dict[str, str]  # url -> outlet
    errors: dict[str, tuple[str, str]]  # url -> (kind, reason)
    result: Measured


def _article(server: FaultServer, slug: str, seed: int) -> str:
    html = article_html(slug.replace("-", " "), french_paragraphs(seed), "fr").encode()
    return server.add(DAY + slug, r.static(html))


def _section(server: FaultServer, urls: list[str]) -> str:
    links = "".join(f'<a href="{u}">x</a>' for u in urls)
    return server.add("/section/", r.static(f"<html><body>{links}</body></html>".encode()))


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedirectCrawl]:
    tmp = tmp_path_factory.mktemp("redirects")
    with FaultServer("127.0.0.1") as alpha, FaultServer("127.0.0.2") as beta, FaultServer("127.0.0.3") as elsewhere:
        listed_by_beta = _article(beta, "an-article-beta-lists-in-its-section", 901)
        unlisted = _article(beta, "an-article-only-alpha-redirects-to", 902)
        to_beta = [
            alpha.add(DAY + "alpha-article-moved-to-a-page-beta-lists", r.redirect(listed_by_beta)),
            alpha.add(DAY + "alpha-article-moved-to-a-page-of-beta", r.redirect(unlisted)),
        ]
        own = _article(alpha, "an-article-of-alpha-itself", 903)
        moved_section = alpha.add("/moved-section/", r.redirect(elsewhere.url("/section/")))
        _section(elsewhere, [_article(elsewhere, "an-article-on-a-host-of-no-outlet", 904)])
        sources = {
            "outlets": {
                "alpha": {"name": "Alpha", "sections": [_section(alpha, [*to_beta, own]), moved_section]},
                "beta": {"name": "Beta", "sections": [_section(beta, [listed_by_beta])]},
            }
        }
        (tmp / "sources.yaml").write_text(yaml.safe_dump(sources))
        db = tmp / "redirects.db"
        args = settings_args(
            {**REPLAY_OVERRIDES, "SAHEL_ALLOWED_PRIVATE_HOSTS": ["127.0.0.1", "127.0.0.2", "127.0.0.3"]}
        )
        result = run_measured("crawl", "--sources", str(tmp / "sources.yaml"), "--db", f"sqlite:///{db}", *args,
                              timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        with sqlite3.connect(db) as conn:
            stored = dict(conn.execute("SELECT url, outlet_id FROM articles").fetchall())
            errors = {
                url: (kind, reason) for url, kind, reason in conn.execute("SELECT url, kind, reason FROM crawl_errors")
            }
        yield RedirectCrawl(alpha, beta, elsewhere, stored, errors, result)


def test_a_redirect_to_another_outlets_host_is_refused_as_offsite(crawl: RedirectCrawl) -> None:
    for slug, target in (("alpha-article-moved-to-a-page-beta-lists", "an-article-beta-lists-in-its-section"),
                         ("alpha-article-moved-to-a-page-of-beta", "an-article-only-alpha-redirects-to")):  # fmt: skip
        kind, reason = crawl.errors[crawl.alpha.url(DAY + slug)]
        assert kind == "offsite"
        assert f"redirected off the outlet's hosts to {crawl.beta.url(DAY + target)}, a host of outlet beta" in reason


def test_no_page_is_stored_under_an_outlet_that_does_not_own_its_host(crawl: RedirectCrawl) -> None:
    assert crawl.stored == {
        crawl.alpha.url(DAY + "an-article-of-alpha-itself"): "alpha",
        crawl.beta.url(DAY + "an-article-beta-lists-in-its-section"): "beta",
    }
    assert DAY + "an-article-only-alpha-redirects-to" not in crawl.beta.paths(), "the redirect was followed"


def test_a_start_url_redirecting_to_a_host_of_no_outlet_is_not_followed(crawl: RedirectCrawl) -> None:
    kind, reason = crawl.errors[crawl.alpha.url("/moved-section/")]
    assert kind == "offsite" and crawl.elsewhere.url("/section/") in reason
    assert crawl.elsewhere.paths() == []
