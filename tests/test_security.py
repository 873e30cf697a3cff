"""Security properties not covered elsewhere: the crawler's hardened settings as a real crawl
gets them, secrets masked in errors, and invariants of the text-safety functions over generated
input. (URL canonicalisation properties: tests/test_urls.py; Arabic normalisation properties:
tests/test_arabic_normalise.py; escaping in rendered digests: tests/test_digest.py.)"""

from __future__ import annotations

import re

import pytest
import scrapy
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.utils.conf import build_component_list

from sahel_crawler.crawl import crawl_settings
from sahel_crawler.digest.safety import clean_text, safe_url
from sahel_crawler.middlewares import is_internal_address, is_internal_host
from sahel_crawler.text.arabic import normalize_arabic
from sahel_crawler.text.urls import canonicalize_url
from tests.conftest import run_sahel

CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
BIDI_AND_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def test_crawl_settings_follow_scrapys_security_advice() -> None:
    s = crawl_settings(db_url="sqlite:///x.db")
    assert _version(scrapy.__version__) >= (2, 11, 1), "decompression-bomb and redirect advisories fixed"
    assert s.getbool("TELNETCONSOLE_ENABLED") is False
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
    assert s.getlist("SAHEL_ALLOWED_PRIVATE_HOSTS") == []  # production allows no internal address


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
     "[::ffff:10.0.0.1]", "[fe80::1]", "0.0.0.0", "100.64.0.1", "192.168.1.1"],
)  # fmt: skip
def test_internal_hosts_are_recognised_by_spelling(host: str) -> None:
    assert is_internal_host(host)


@pytest.mark.parametrize("host", ["www.france24.com", "8.8.8.8", "[2001:4860:4860::8888]", "[::ffff:8.8.8.8]"])
def test_public_hosts_pass(host: str) -> None:
    assert not is_internal_host(host)


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
