"""Security properties not covered elsewhere: the crawler's hardened settings as a real crawl
gets them, secrets masked in errors, and invariants of the text-safety functions over generated
input. (URL canonicalisation properties: tests/test_urls.py; Arabic normalisation properties:
tests/test_arabic_normalise.py; escaping in rendered digests: tests/test_digest.py.)"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import scrapy
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.exceptions import CannotResolveHostError
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet import defer
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.error import DNSLookupError
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.selectreactor import SelectReactor
from twisted.python.failure import Failure

from bench.crawl import process_tree
from sahel_crawler.crawl import crawl_settings
from sahel_crawler.demo import REPLAY_OVERRIDES, settings_args
from sahel_crawler.digest.safety import clean_text, safe_url
from sahel_crawler.middlewares import (
    PrivateAddressError,
    PrivateAddressMiddleware,
    is_internal_address,
    is_internal_host,
)
from sahel_crawler.resolver import InternalAnswerError, PrivateAddressResolver, RefusedLookupMiddleware, refused_address
from sahel_crawler.spiders.failures import classify_failure
from sahel_crawler.text.arabic import normalize_arabic
from sahel_crawler.text.urls import canonicalize_url
from tests.conftest import run_sahel, start_sahel
from tests.faults import FaultServer
from tests.faults import resources as r

CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
BIDI_AND_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def test_crawl_settings_follow_scrapys_security_advice() -> None:
    s = crawl_settings(db_url="sqlite:///x.db")
    assert _version(scrapy.__version__) >= (2, 11, 1), "decompression-bomb and redirect advisories fixed"
    assert s.getbool("TELNETCONSOLE_ENABLED") is False
    assert s.getbool("REMOTE_CONTROL_ENABLED") is False  # an HTTP endpoint running any Python code
    assert s.getbool("DOWNLOAD_VERIFY_CERTIFICATES") is True
    assert 0 < s.getint("SAHEL_MAX_HEADER_BYTES") <= 1024 * 1024 and 0 < s.getint("SAHEL_MAX_HEADER_COUNT") <= 1000
    assert {s.getdict("DOWNLOAD_HANDLERS")[scheme] for scheme in ("http", "https")} == {
        "sahel_crawler.download.SahelDownloadHandler"
    }
    handlers = s.getdict("DOWNLOAD_HANDLERS")
    assert all(handlers.get(scheme, "missing") is None for scheme in ("file", "data", "ftp", "s3"))
    assert s.getbool("ROBOTSTXT_OBEY") and not s.getbool("COOKIES_ENABLED")
    assert 0 < s.getint("DOWNLOAD_WARNSIZE") <= s.getint("DOWNLOAD_MAXSIZE") <= 50 * 1024 * 1024
    assert 0 < s.getint("DOWNLOAD_TIMEOUT") <= 60 and 0 < s.getint("REDIRECT_MAX_TIMES") <= 10
    assert "@" in s.get("USER_AGENT") or "+http" in s.get("USER_AGENT"), "a contact in the user agent"
    order = build_component_list(s.getwithbase("DOWNLOADER_MIDDLEWARES"))
    private = order.index("sahel_crawler.middlewares.PrivateAddressMiddleware")
    # nothing that connects anywhere (robots.txt fetches, the download itself) runs before the check
    assert private < order.index("scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware")
    assert "sahel_crawler.middlewares.RobotsServerErrorMiddleware" in order, "robots.txt 5xx must mean disallow"
    # the connection's own lookup refuses internal answers; the refusal is reported, not retried
    assert load_object(s["TWISTED_DNS_RESOLVER"]) is PrivateAddressResolver
    assert s.getbool("HTTPPROXY_ENABLED") is False  # through a proxy the resolver never sees the outlet's name
    refused = order.index("sahel_crawler.resolver.RefusedLookupMiddleware")
    assert refused > order.index("scrapy.downloadermiddlewares.retry.RetryMiddleware")  # its process_exception first
    assert s.getlist("SAHEL_ALLOWED_PRIVATE_HOSTS") == []  # production allows no internal address


def _listening_tcp_ports(pids: list[int]) -> set[int]:
    """The TCP ports on which any of `pids` holds a listening socket (Linux /proc)."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue  # the process ended meanwhile
        inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_a_running_crawl_listens_on_no_port(tmp_path) -> None:
    """Neither telnet nor Scrapy's RemoteControl HTTP server (which runs any Python code sent to
    it) is listening while a real crawl is under way."""
    with FaultServer("127.0.0.1") as server, tempfile.TemporaryFile() as err:
        slow = server.add("/2026/11/19/an-article-that-keeps-the-crawl-running", r.slow_first_byte(30))
        section = server.add("/section/", r.static(f'<html><body><a href="{slow}">x</a></body></html>'.encode()))
        sources = tmp_path / "sources.yaml"
        sources.write_text(f"outlets:\n  slow:\n    name: Slow\n    sections: ['{section}']\n")
        args = settings_args({**REPLAY_OVERRIDES, "DOWNLOAD_TIMEOUT": 3, "RETRY_TIMES": 0})
        crawl = start_sahel("crawl", "--sources", str(sources), "--db", f"sqlite:///{tmp_path / 'x.db'}", *args,
                            stderr=err, stdout=err)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "/2026/11/19/an-article-that-keeps-the-crawl-running" not in server.paths():
                assert crawl.poll() is None and time.monotonic() < deadline, "the crawl never reached the article"
                time.sleep(0.1)
            listening = _listening_tcp_ports(process_tree(crawl.pid))
        finally:
            assert crawl.wait(timeout=60) == 0
        err.seek(0)
        log = err.read().decode("utf-8", "replace")
    assert listening == set(), f"the crawl listens on {listening}"
    assert "Remote control" not in log and "Telnet console listening" not in log


@pytest.mark.parametrize("command", [["crawl"], ["runs"], ["export"]])
def test_a_database_password_is_masked_in_errors(command: list[str]) -> None:
    url = "postgresql+psycopg://analyst:Sup3r-S3cret@127.0.0.1:9/sahel"
    result = run_sahel(*command, "--db", url)
    assert result.returncode == 1
    assert "Sup3r-S3cret" not in result.stderr + result.stdout
    assert "analyst:***@127.0.0.1" in result.stderr


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST.", "app.internal", "printer.local", "10.0.0.1", "169.254.169.254", "[::1]",
     "[::ffff:10.0.0.1]", "[fe80::1]", "0.0.0.0", "100.64.0.1", "192.168.1.1",
     "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1", "167772161", "0xa9.254.169.254"],
)  # fmt: skip
def test_internal_hosts_are_recognised_by_spelling(host: str) -> None:
    assert is_internal_host(host)


@pytest.mark.parametrize(
    "host", ["www.france24.com", "8.8.8.8", "[2001:4860:4860::8888]", "[::ffff:8.8.8.8]", "134744072", "cafe.be"]
)
def test_public_hosts_pass(host: str) -> None:
    assert not is_internal_host(host)


def test_the_middleware_leaves_names_to_the_resolver() -> None:
    """A name that resolves to this machine is not judged by a lookup of the middleware's own:
    the resolver judges the answer the connection uses (below)."""
    host = socket.gethostname()
    if is_internal_host(host):
        pytest.skip(f"this machine's name {host!r} is refused by its spelling")
    crawler = SimpleNamespace(settings=crawl_settings(), stats=SimpleNamespace(inc_value=lambda *a: None))
    middleware = PrivateAddressMiddleware.from_crawler(crawler)
    assert middleware.process_request(Request(f"http://{host}/")) is None
    with pytest.raises(PrivateAddressError, match=r"refused internal address 2130706433 \(http://2130706433/a\)"):
        middleware.process_request(Request("http://2130706433/a"))


@pytest.mark.parametrize(
    ("url", "allowed"),
    [("http://127.0.0.1:8080/a", True), ("http://127.0.0.1:8081/a", False), ("http://127.0.0.1/a", False),
     ("http://[::1]:9000/a", True), ("https://[::1]/a", False),
     ("http://localhost:5000/feed", True), ("http://localhost:5000/other", True), ("http://localhost:6379/", False),
     ("https://localhost/", False), ("http://127.0.0.2:5000/", False)],
)  # fmt: skip
def test_allowed_private_hosts_are_exempted_on_their_ports_only(tmp_path, url: str, allowed: bool) -> None:
    """`host:port` entries exempt that port; a bare host, the ports of the registry's URLs on it."""
    sources = tmp_path / "sources.yaml"
    sources.write_text("outlets:\n  local:\n    name: Local\n    feeds: ['http://localhost:5000/feed']\n")
    overrides = {"SAHEL_ALLOWED_PRIVATE_HOSTS": ["127.0.0.1:8080", "[::1]:9000", "localhost"]}
    s = crawl_settings(sources_path=str(sources), overrides=overrides)
    middleware = PrivateAddressMiddleware.from_crawler(
        SimpleNamespace(settings=s, stats=SimpleNamespace(inc_value=lambda *a: None))
    )
    if allowed:
        assert middleware.process_request(Request(url)) is None
    else:
        with pytest.raises(PrivateAddressError, match="refused"):
            middleware.process_request(Request(url))


def _on_own_reactor(run: Callable[[Any], Any]) -> Any:
    """Run `run(reactor)` on a reactor of its own (real threads, real sockets) until the Deferred
    it returns fires; return the result or the Failure."""
    reactor = SelectReactor()
    outcome: list[Any] = []

    def start() -> None:
        d = defer.maybeDeferred(run, reactor)
        d.addBoth(outcome.append)
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.callLater(20, reactor.stop)  # a safety net: the assertion below then names the hang
    reactor.run(installSignalHandlers=False)
    assert outcome, "the lookup did not finish"
    return outcome[0]


def _resolver(reactor: Any, allowed: list[str]) -> PrivateAddressResolver:
    """The crawl's resolver, built as Scrapy builds it (from the process's settings)."""
    s = crawl_settings(overrides={"SAHEL_ALLOWED_PRIVATE_HOSTS": allowed})
    return build_from_crawler(load_object(s["TWISTED_DNS_RESOLVER"]), SimpleNamespace(settings=s), reactor=reactor)


def test_the_resolver_fails_the_lookup_of_a_name_answering_an_internal_address() -> None:
    # "localhost" really resolves to loopback here: no stub between the resolver and the C library.
    result = _on_own_reactor(lambda reactor: _resolver(reactor, ["127.0.0.1"]).getHostByName("localhost"))
    assert isinstance(result, Failure) and result.check(InternalAnswerError)
    error = result.value
    assert error.host == "localhost" and is_internal_address(error.address)
    assert f"refused localhost: it resolves to internal address {error.address}" in str(error)
    assert refused_address("LOCALHOST") == error.address  # recorded for RefusedLookupMiddleware


def test_the_resolver_answers_allowed_hosts_and_public_addresses() -> None:
    answer = _on_own_reactor(lambda reactor: _resolver(reactor, ["LocalHost"]).getHostByName("localhost"))
    assert isinstance(answer, str) and is_internal_address(answer)
    assert _on_own_reactor(lambda reactor: _resolver(reactor, []).getHostByName("8.8.8.8")) == "8.8.8.8"


def test_a_connection_is_made_only_to_an_address_the_resolver_accepted() -> None:
    """Through Twisted's HostnameEndpoint, as Scrapy's HTTP client connects: a name answering an
    internal address never reaches the server listening there, unless the name is allowed."""

    def connect(allowed: list[str]) -> tuple[Any, int]:
        accepted: list[object] = []

        def run(reactor: Any) -> Any:
            _resolver(reactor, allowed).install_on_reactor()
            server = Factory.forProtocol(Protocol)
            server.buildProtocol = lambda addr: accepted.append(addr) or Protocol()  # type: ignore[method-assign]
            port = reactor.listenTCP(0, server, interface="127.0.0.1").getHost().port
            d = HostnameEndpoint(reactor, "localhost", port, timeout=5).connect(Factory.forProtocol(Protocol))
            d.addCallback(lambda protocol: protocol.transport.loseConnection())
            return d

        return _on_own_reactor(run), len(accepted)

    refused, reached = connect([])
    assert isinstance(refused, Failure) and refused.check(DNSLookupError) and reached == 0
    connected, reached = connect(["localhost"])
    assert not isinstance(connected, Failure) and reached == 1


def test_a_refused_lookup_is_reported_as_an_internal_address_with_the_host_and_the_address() -> None:
    _on_own_reactor(lambda reactor: _resolver(reactor, []).getHostByName("localhost"))
    address = refused_address("localhost")
    counted: list[str] = []
    middleware = RefusedLookupMiddleware.from_crawler(SimpleNamespace(stats=SimpleNamespace(inc_value=counted.append)))
    request = Request("http://localhost:8080/probe")
    # What the download handler raises when the endpoint got no address
    lookup_failed = CannotResolveHostError("DNS lookup failed: no results for hostname lookup: localhost.")
    with pytest.raises(PrivateAddressError) as raised:
        middleware.process_exception(request, lookup_failed)
    assert counted == ["sahel/refused_internal"]
    failure = Failure(raised.value)
    expected = f"refused localhost: it resolves to internal address {address} (http://localhost:8080/probe)"
    assert classify_failure(failure) == ("internal", expected)
    # a name that simply does not resolve stays a DNS failure, retried and reported as `dns`
    assert middleware.process_exception(Request("http://no-such-host.invalid/"), lookup_failed) is None


@given(st.ip_addresses())
def test_an_address_is_internal_exactly_when_it_is_not_global(address) -> None:
    mapped = getattr(address, "ipv4_mapped", None)
    expected = not (mapped or address).is_global
    assert is_internal_address(str(address)) is expected


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_clean_text_leaves_no_bidi_or_control_character_and_is_idempotent(text: str) -> None:
    cleaned = clean_text(text)
    assert not BIDI_AND_CONTROLS.search(cleaned)
    assert clean_text(cleaned) == cleaned


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.builds(lambda s, rest: s + rest, st.sampled_from(
    ["http://", "https://", "HTTPS://", "javascript:", "data:", "file://", "//", " http://"]), st.text())))  # fmt: skip
def test_safe_url_returns_only_web_links_without_spaces_or_controls(text: str) -> None:
    url = safe_url(text)
    if url is not None:
        assert url.lower().startswith(("http://", "https://"))
        assert not any(c.isspace() for c in url) and not CONTROLS.search(url)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40))
def test_canonical_urls_are_web_urls_without_fragment_or_whitespace(path: str) -> None:
    try:
        url = canonicalize_url(f"https://www.france24.com/{path}")
    except ValueError:
        return  # refused outright: fine
    assert url.startswith(("https://", "http://")) and "#" not in url
    assert not any(c.isspace() or ord(c) < 0x21 for c in url)


@given(st.text(alphabet=st.sampled_from(list("abc XYZ éàç-123'’")), max_size=40))
def test_arabic_normalisation_leaves_latin_text_alone(text: str) -> None:
    assert normalize_arabic(text) == text
