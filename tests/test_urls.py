"""URL canonicalisation: properties over generated URLs, and the outlets' real URL shapes."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sahel_crawler.text.urls import (
    TRACKING_PARAMS,
    TRACKING_PREFIXES,
    UrlRules,
    canonicalize_url,
    pick_canonical,
)

HOSTS = ["www.france24.com", "middle-east-online.com", "www.rfi.fr", "www.aljazeera.net"]
ARABIC_WORDS = ["مالي", "النيجر", "بوركينا-فاسو", "الساحل", "أفريقيا", "هجوم", "انتخابات", "باماكو"]
LATIN_WORDS = ["afrique", "mali", "sahel", "20240115-attaque", "niger", "élection", "a b"]

segment = st.one_of(st.sampled_from(ARABIC_WORDS + LATIN_WORDS), st.from_regex(r"[a-z0-9\-]{1,12}", fullmatch=True))
tracking_name = st.one_of(
    st.sampled_from(sorted(TRACKING_PARAMS)),
    st.builds(lambda p, s: p + s, st.sampled_from(TRACKING_PREFIXES), st.from_regex(r"[a-z]{1,8}", fullmatch=True)),
).map(lambda n: n.upper() if n.startswith("utm") and len(n) % 2 else n)
kept_name = st.from_regex(r"[a-z]{1,6}", fullmatch=True).filter(
    lambda n: n.lower() not in TRACKING_PARAMS and not n.lower().startswith(TRACKING_PREFIXES)
)
value = st.one_of(st.sampled_from(["1", "rss", "مالي", "a b", ""]), st.from_regex(r"[A-Za-z0-9]{0,6}", fullmatch=True))


@st.composite
def urls(draw: st.DrawFn) -> tuple[str, list[str], list[tuple[str, str]], list[tuple[str, str]], str]:
    """A URL as a feed might write it, with its parts: path segments, kept and tracking params."""
    scheme = draw(st.sampled_from(["https", "http", "HTTPS"]))
    host = draw(st.sampled_from(HOSTS))
    host = "".join(c.upper() if draw(st.booleans()) else c for c in host) if draw(st.booleans()) else host
    port = draw(st.sampled_from(["", ":443" if scheme.lower() == "https" else ":80"]))
    segments = draw(st.lists(segment, min_size=1, max_size=4))
    encode = draw(st.booleans())
    path = "/" + "/".join(quote(s) if encode else s for s in segments)
    kept = draw(st.lists(st.tuples(kept_name, value), max_size=3, unique_by=lambda kv: kv[0]))
    tracking = draw(st.lists(st.tuples(tracking_name, value), max_size=3))
    params = draw(st.permutations(kept + tracking))
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in params)
    fragment = draw(st.sampled_from(["", "#", "#top", "#xtor=RS-1", "#مالي"]))
    url = f"{scheme}://{host}{port}{path}" + (f"?{query}" if query else "") + fragment
    return url, segments, kept, tracking, fragment


@settings(max_examples=300, deadline=None)
@given(urls())
def test_canonicalisation_is_idempotent(case: tuple) -> None:
    url = case[0]
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


@settings(max_examples=300, deadline=None)
@given(urls())
def test_tracking_params_never_survive_and_others_are_kept(case: tuple) -> None:
    url, _, kept, _, _ = case
    names = {k for k, _ in parse_qsl(urlsplit(canonicalize_url(url)).query, keep_blank_values=True)}
    assert not any(n.lower() in TRACKING_PARAMS or n.lower().startswith(TRACKING_PREFIXES) for n in names)
    assert names == {k for k, _ in kept}


@settings(max_examples=200, deadline=None)
@given(urls(), st.randoms(use_true_random=False))
def test_fragment_param_order_encoding_and_case_are_irrelevant(case: tuple, rnd) -> None:
    url, segments, kept, tracking, _ = case
    base = url.split("#", 1)[0]
    reference = canonicalize_url(base)
    assert canonicalize_url(base + "#elsewhere") == reference
    shuffled = kept + tracking
    rnd.shuffle(shuffled)
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in shuffled)
    parts = urlsplit(base)
    for path in (
        "/" + "/".join(segments),
        "/" + "/".join(quote(s) for s in segments),
        "/" + "/".join(quote(s).lower() for s in segments),
    ):
        variant = f"{parts.scheme.lower()}://{parts.hostname}{path}" + (f"?{query}" if query else "")
        assert canonicalize_url(variant) == reference


@given(st.sampled_from(ARABIC_WORDS))
def test_arabic_slug_encoded_or_not_is_one_url_in_browser_form(word: str) -> None:
    decoded = f"https://middle-east-online.com/{word}"
    encoded = f"https://middle-east-online.com/{quote(word)}"
    assert canonicalize_url(decoded) == canonicalize_url(encoded) == canonicalize_url(encoded.lower())
    assert canonicalize_url(decoded) == encoded  # UTF-8, uppercase hex: what browsers send


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20),
)
def test_idempotent_on_arbitrary_paths_and_queries(path: str, query: str) -> None:
    once = canonicalize_url(f"https://www.france24.com/{path}?{query}")
    assert canonicalize_url(once) == once


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # France 24 Arabic, section and slug percent-encoded, feed tracking (the outlet's real URL shapes).
        (
            "https://www.france24.com/ar/أفريقيا/20240115-مالي-هجوم?xtor=RSS-1&utm_source=rss#comments",
            "https://www.france24.com/ar/%D8%A3%D9%81%D8%B1%D9%8A%D9%82%D9%8A%D8%A7/"
            "20240115-%D9%85%D8%A7%D9%84%D9%8A-%D9%87%D8%AC%D9%88%D9%85",
        ),
        # An older France 24 Arabic URL from the 2018 corpus (http, no section), encoded lower-case.
        (
            "http://www.france24.com/ar/20180218-%d9%88%d9%81%d8%a7%d8%a9",
            "http://www.france24.com/ar/20180218-%D9%88%D9%81%D8%A7%D8%A9",
        ),
        (
            "HTTPS://WWW.France24.com:443/fr/afrique/20240115-mali-attaque?at_medium=RSS&at_campaign=x",
            "https://www.france24.com/fr/afrique/20240115-mali-attaque",
        ),
        # Middle East Online: an Arabic slug at the root; a Drupal pager parameter is content.
        (
            "https://middle-east-online.com/النيجر-انقلاب?page=2&fbclid=IwAR0abc",
            "https://middle-east-online.com/%D8%A7%D9%84%D9%86%D9%8A%D8%AC%D8%B1-%D8%A7%D9%86%D9%82%D9%84%D8%A7%D8%A8?page=2",
        ),
        (
            "https://middle-east-online.com/en/sahel?b=2&a=1&gclid=x&ns_source=y&_ga=1.2",
            "https://middle-east-online.com/en/sahel?a=1&b=2",
        ),
        ("http://www.rfi.fr:8080/fr/afrique/", "http://www.rfi.fr:8080/fr/afrique/"),
    ],
)
def test_real_url_shapes(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "/fr/afrique/x",
        "ftp://www.france24.com/x",
        "javascript:alert(1)",
        "mailto:a@b.c",
        "https://",
        "https://www.france24.com:99999/",
    ],
)
def test_non_web_urls_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        canonicalize_url(bad)


FRANCE24_RULES = {
    "host_map": {"m.france24.com": "www.france24.com", "amp.france24.com": "www.france24.com"},
    "drop_path_segments": ["amp"],
    "force_https": True,
}


@pytest.mark.parametrize(
    "variant",
    [
        "http://m.france24.com/fr/afrique/20240115-mali-attaque",
        "https://amp.france24.com/fr/afrique/20240115-mali-attaque?xtor=CS1",
        "https://www.france24.com/fr/amp/afrique/20240115-mali-attaque",
        "https://www.france24.com/fr/afrique/20240115-mali-attaque/amp",
    ],
)
def test_outlet_rules_fold_amp_and_mobile_variants(variant: str) -> None:
    rules = UrlRules.from_mapping(FRANCE24_RULES)
    assert canonicalize_url(variant, rules=rules) == "https://www.france24.com/fr/afrique/20240115-mali-attaque"
    assert canonicalize_url(canonicalize_url(variant, rules=rules), rules=rules) == canonicalize_url(
        variant, rules=rules
    )


def test_suffix_keep_and_drop_rules() -> None:
    rules = UrlRules.from_mapping(
        {"drop_path_suffixes": ["/amp", ".amp"], "strip_trailing_slash": True, "keep_params": ["page"]}
    )
    assert canonicalize_url("https://x.org/a/story.amp/?page=2&sort=new", rules=rules) == "https://x.org/a/story?page=2"
    assert canonicalize_url("https://x.org/a/amp/amp/", rules=rules) == "https://x.org/a"
    assert canonicalize_url("https://x.org/", rules=rules) == "https://x.org/"
    drop = UrlRules.from_mapping({"drop_params": ["ref"]})
    assert canonicalize_url("https://x.org/a?ref=home&id=3", rules=drop) == "https://x.org/a?id=3"


@pytest.mark.parametrize(
    ("data", "bad_key"),
    [
        ({"host_maps": {}}, "host_maps"),
        ({"host_map": ["m.x.org"]}, "host_map"),
        ({"host_map": {"m.x.org": "www.x.org", "www.x.org": "x.org"}}, "host_map"),
        ({"drop_path_segments": "amp"}, "drop_path_segments"),
        ({"drop_path_segments": ["a/b"]}, "drop_path_segments"),
        ({"force_https": "yes"}, "force_https"),
        ({"keep_params": [1]}, "keep_params"),
    ],
)
def test_bad_rules_name_the_key(data: dict, bad_key: str) -> None:
    with pytest.raises(ValueError, match=bad_key):
        UrlRules.from_mapping(data)


PAGE = "https://www.france24.com/fr/afrique/20240115-mali-attaque?xtor=RSS-1"
HOSTS_F24 = ["www.france24.com"]


def test_declared_canonical_on_the_outlet_wins() -> None:
    declared = "https://www.france24.com/fr/afrique/20240115-mali-attaque-jihadiste#x"
    assert pick_canonical(PAGE, declared, HOSTS_F24) == declared.split("#")[0]
    # Relative declarations resolve against the page.
    assert pick_canonical(PAGE, "/fr/20240115-mali", HOSTS_F24) == "https://www.france24.com/fr/20240115-mali"
    # A mobile host mapped by the outlet's rules counts as the outlet's own.
    rules = UrlRules.from_mapping(FRANCE24_RULES)
    assert pick_canonical(PAGE, "http://m.france24.com/fr/x", HOSTS_F24, rules) == "https://www.france24.com/fr/x"


@pytest.mark.parametrize(
    "declared",
    [
        None,
        "",
        "   ",
        "https://evil.example/fr/afrique/x",
        "https://www.france24.com/",
        "javascript:void(0)",
        "https://france24.com.evil.example/x",
    ],
)
def test_off_site_home_page_or_missing_declaration_falls_back_to_the_page(declared: str | None) -> None:
    assert pick_canonical(PAGE, declared, HOSTS_F24) == "https://www.france24.com/fr/afrique/20240115-mali-attaque"
