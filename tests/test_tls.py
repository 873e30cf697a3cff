"""TLS certificates are verified: one crawl of https outlets on loopback, with certificates made
at test time and a test CA the crawl trusts through SSL_CERT_FILE."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from sahel_crawler.demo import REPLAY_OVERRIDES, settings_args
from tests.faults import FaultServer
from tests.faults import resources as r
from tests.faults.certs import make_ca, make_server_cert
from tests.faults.process import Measured, run_measured
from tests.faults.site import DAY, article_html
from tests.faults.texts import french_paragraphs

pytestmark = pytest.mark.slow

# outlet -> (loopback address, names on its certificate, signed by the test CA, verify_tls)
OUTLETS = {
    "trusted": ("127.0.0.4", ["127.0.0.4"], True, True),
    "selfsigned": ("127.0.0.5", ["127.0.0.5"], False, True),
    "wrongname": ("127.0.0.6", ["www.another-outlet.example"], True, True),
    "optedout": ("127.0.0.7", ["www.another-outlet.example"], False, False),
}


@dataclass
class TLSCrawl:
    sections: dict[str, str]  # outlet -> its section URL
    articles: dict[str, str]  # outlet -> its article URL
    stored: dict[str, str]  # url -> outlet
    errors: list[tuple[str, str, str]]
    result: Measured


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSCrawl]:
    tmp = tmp_path_factory.mktemp("tls")
    ca_files, ca_cert, ca_key = make_ca(tmp)
    servers: dict[str, FaultServer] = {}
    registry: dict[str, dict[str, object]] = {}
    sections, articles = {}, {}
    for n, (outlet, (host, names, by_ca, verify)) in enumerate(OUTLETS.items()):
        cert = make_server_cert(tmp, outlet, names, (ca_cert, ca_key) if by_ca else None)
        server = servers[outlet] = FaultServer(host, tls=cert.server_context()).start()
        html = article_html(f"Article {outlet}", french_paragraphs(500 + n), "fr").encode()
        articles[outlet] = server.add(f"{DAY}article-served-over-tls-by-{outlet}", r.static(html))
        page = f'<html><body><a href="{articles[outlet]}">x</a></body></html>'.encode()
        sections[outlet] = server.add("/section/", r.static(page))
        registry[outlet] = {"name": outlet, "sections": [sections[outlet]], **({} if verify else {"verify_tls": False})}
    try:
        sources = tmp / "sources.yaml"
        sources.write_text(yaml.safe_dump({"outlets": registry}))
        db = tmp / "tls.db"
        hosts = [host for host, *_ in OUTLETS.values()]
        args = settings_args({**REPLAY_OVERRIDES, "SAHEL_ALLOWED_PRIVATE_HOSTS": hosts, "DOWNLOAD_TIMEOUT": 5})
        result = run_measured(
            "crawl", "--sources", str(sources), "--db", f"sqlite:///{db}", *args,
            timeout=120, env={"SSL_CERT_FILE": str(ca_files.cert)},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        with sqlite3.connect(db) as conn:
            stored = dict(conn.execute("SELECT url, outlet_id FROM articles").fetchall())
            errors = conn.execute("SELECT url, kind, reason FROM crawl_errors").fetchall()
        yield TLSCrawl(sections, articles, stored, errors, result)
    finally:
        for server in servers.values():
            server.stop()


def test_a_certificate_signed_by_a_trusted_ca_for_the_host_is_accepted(crawl: TLSCrawl) -> None:
    assert crawl.stored.get(crawl.articles["trusted"]) == "trusted"


@pytest.mark.parametrize("outlet", ["selfsigned", "wrongname"])
def test_an_untrusted_or_wrong_name_certificate_is_a_tls_error_and_nothing_is_stored(
    crawl: TLSCrawl, outlet: str
) -> None:
    recorded = {url: (kind, reason) for url, kind, reason in crawl.errors}
    kind, reason = recorded[crawl.sections[outlet]]
    assert kind == "tls", reason
    assert "certificate" in reason
    assert f"{crawl.sections[outlet]} failed (tls): " in crawl.result.stderr
    assert not [url for url, owner in crawl.stored.items() if owner == outlet]


def test_an_outlet_with_verify_tls_false_is_fetched_and_the_crawl_warns_at_start(crawl: TLSCrawl) -> None:
    assert crawl.stored.get(crawl.articles["optedout"]) == "optedout"
    warning = "TLS certificates of outlet optedout are not verified (verify_tls: false in "
    assert any("WARNING" in line and warning in line for line in crawl.result.stderr.splitlines())
    assert "outlet trusted are not verified" not in crawl.result.stderr
