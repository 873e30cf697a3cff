"""URL canonicalisation: one key per article, whichever link it was reached by.

Pure functions: no I/O, no state. The heavy lifting (query sorting, percent-encoding
normalisation, dot segments, IDNA hosts) is w3lib's `canonicalize_url`; this module adds what
news monitoring needs on top: tracking parameters removed, default ports dropped, and
per-outlet rules for AMP and mobile variants (`UrlRules`, declared in the sources registry).

The one percent-encoding form is the one browsers send: UTF-8, percent-encoded, uppercase
hex (`/ar/%D9%85%D8%A7%D9%84%D9%8A`), so an Arabic slug gives the same URL whether a feed
wrote it encoded or not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url as _w3lib_canonicalize

# Query parameters that only say how a reader arrived, never which page they asked for.
# Matched case-insensitively on the decoded parameter name.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "xtor",  # AT Internet / Piano Analytics (France 24, RFI links from feeds and social)
        "xts",
        "fbclid",  # Facebook
        "gclid",  # Google Ads
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",  # Microsoft Ads
        "yclid",  # Yandex
        "twclid",  # X / Twitter
        "igshid",  # Instagram
        "mc_cid",  # Mailchimp
        "mc_eid",
        "_ga",  # Google Analytics cross-domain linker
        "_gl",
        "_hsenc",  # HubSpot
        "_hsmi",
        "mkt_tok",  # Marketo
        "ocid",  # Microsoft Start syndication
        "cmpid",
        "ref_src",  # Twitter embeds
        "ref_url",
        "dicbo",  # Outbrain
        "oborigurl",
    }
)

# Parameter-name prefixes of tracking families (checked after lower-casing).
TRACKING_PREFIXES: tuple[str, ...] = (
    "utm_",  # Google Analytics campaign tags (utm_source, utm_medium, ...)
    "at_",  # AT Internet campaign tags (at_medium, at_campaign, ...)
    "ns_",  # comScore (ns_mchannel, ns_source, ns_campaign, ...)
    "pk_",  # Matomo / Piwik campaigns
    "mtm_",  # Matomo
    "piwik_",
    "hsa_",  # HubSpot ads
    "oly_",  # Omeda
    "vero_",  # Vero
)

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_WEB_SCHEMES = frozenset(_DEFAULT_PORTS)


def is_tracking_param(name: str) -> bool:
    """True when a (decoded) query parameter name is a tracking parameter."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _str_tuple(key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"url rule {key!r}: expected a list of strings, got {value!r}")
    items = tuple(value)
    if not all(isinstance(v, str) and v for v in items):
        raise ValueError(f"url rule {key!r}: expected non-empty strings, got {value!r}")
    return items


@dataclass(frozen=True)
class UrlRules:
    """Per-outlet canonicalisation rules, declared under `url_rules:` in the sources registry.

    host_map: exact host -> canonical host, e.g. {"m.france24.com": "www.france24.com",
        "amp.france24.com": "www.france24.com"}.
    drop_path_segments: path segments removed wherever they occur, e.g. ["amp"] maps
        `/fr/afrique/amp/20240101-x` to `/fr/afrique/20240101-x`.
    drop_path_suffixes: suffixes removed from the end of the path, e.g. ["/amp", ".amp"].
    drop_params: extra query parameters of this outlet that do not select content.
    keep_params: when given, the only query parameters kept (an allow-list).
    force_https: rewrite http:// to https:// (outlets served over https only).
    strip_trailing_slash: `/a/b/` becomes `/a/b` (the root path `/` stays).
    """

    host_map: Mapping[str, str] = field(default_factory=dict)
    drop_path_segments: tuple[str, ...] = ()
    drop_path_suffixes: tuple[str, ...] = ()
    drop_params: frozenset[str] = frozenset()
    keep_params: frozenset[str] | None = None
    force_https: bool = False
    strip_trailing_slash: bool = False

    def __post_init__(self) -> None:
        # Hosts compare lower-cased (as canonicalised); the mapping is made read-only so
        # the frozen rules stay hashable-in-spirit and safe to share between requests.
        hosts = {k.lower(): v.lower() for k, v in dict(self.host_map).items()}
        chained = sorted(set(hosts) & set(hosts.values()))
        if chained:
            raise ValueError(f"url rule 'host_map': {chained[0]!r} is both a source and a target")
        object.__setattr__(self, "host_map", MappingProxyType(hosts))
        object.__setattr__(self, "drop_params", frozenset(p.lower() for p in self.drop_params))
        if self.keep_params is not None:
            object.__setattr__(self, "keep_params", frozenset(p.lower() for p in self.keep_params))
        # Canonical forms already computed under these rules (not a field: no effect on ==/repr).
        object.__setattr__(self, "_canonical_cache", {})

    @classmethod
    def from_mapping(cls, data: Mapping) -> UrlRules:
        """Build rules from a registry mapping; raises ValueError naming the bad key."""
        if not isinstance(data, Mapping):
            raise ValueError(f"url_rules: expected a mapping, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, object] = {}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"url rule {key!r}: unknown key (expected one of {sorted(known)})")
            if key == "host_map":
                if not isinstance(value, Mapping) or not all(
                    isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()
                ):
                    raise ValueError(f"url rule 'host_map': expected host -> host strings, got {value!r}")
                kwargs[key] = dict(value)
            elif key in ("force_https", "strip_trailing_slash"):
                if not isinstance(value, bool):
                    raise ValueError(f"url rule {key!r}: expected true or false, got {value!r}")
                kwargs[key] = value
            elif key in ("drop_params", "keep_params"):
                kwargs[key] = frozenset(_str_tuple(key, value))
            else:
                items = _str_tuple(key, value)
                if key == "drop_path_segments" and any("/" in s for s in items):
                    raise ValueError(f"url rule {key!r}: a segment cannot contain '/', got {value!r}")
                kwargs[key] = items
        return cls(**kwargs)  # type: ignore[arg-type]


_NO_RULES = UrlRules()


def _filter_query(query: str, rules: UrlRules) -> str:
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        name = unquote_plus(pair.partition("=")[0]).lower()
        if is_tracking_param(name) or name in rules.drop_params:
            continue
        if rules.keep_params is not None and name not in rules.keep_params:
            continue
        kept.append(pair)
    return "&".join(kept)


def _apply_path_rules(path: str, rules: UrlRules) -> str:
    if rules.drop_path_segments:
        drop = set(rules.drop_path_segments)
        path = "/".join(s for s in path.split("/") if s not in drop) or "/"
    # Suffix and trailing-slash rules can uncover each other ("/a/amp/amp", "/a/amp/"):
    # repeat until stable so that canonicalisation stays idempotent.
    while True:
        before = path
        for suffix in rules.drop_path_suffixes:
            if path.endswith(suffix) and len(path) > len(suffix):
                path = path[: -len(suffix)]
        if rules.strip_trailing_slash and len(path) > 1:
            path = path.rstrip("/") or "/"
        if path == before:
            return path if path.startswith("/") else "/" + path


def canonicalize_url(url: str, *, rules: UrlRules | None = None) -> str:
    """Return the canonical form of an absolute http(s) URL.

    Lower-cases scheme and host (IDNA hosts become punycode), drops the default port and the
    fragment, removes tracking parameters (`TRACKING_PARAMS`, `TRACKING_PREFIXES`), sorts the
    query, resolves dot segments and normalises percent-encoding to UTF-8 with uppercase hex.
    `rules` adds an outlet's own rewrites (see `UrlRules`). Idempotent.

    Raises ValueError for anything that is not an absolute http(s) URL with a host.

    >>> canonicalize_url("HTTPS://www.France24.com:443/ar/مالي?xtor=RSS-1&b=2&a=1#top")
    'https://www.france24.com/ar/%D9%85%D8%A7%D9%84%D9%8A?a=1&b=2'
    """
    rules = rules or _NO_RULES
    # A crawl canonicalises the same URL several times (spider, scheduler check, pipeline):
    # the function is pure, so each distinct URL is worked out once per rules object.
    cache: dict[str, str] = rules._canonical_cache  # type: ignore[attr-defined]
    found = cache.get(url)
    if found is None:
        found = _canonicalize(url, rules)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[url] = found
        cache[found] = found  # idempotent: later stages ask with the canonical form
    return found


# URLs per rules object; the cache is simply emptied when full. The spider and the scheduler's
# stored-URL check ask for a URL moments apart; the pipeline may ask much later and then works it
# out again. Each entry costs ~350 bytes, so a large cache grows with a large crawl.
_CACHE_SIZE = 10_000


def _canonicalize(url: str, rules: UrlRules) -> str:
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {url!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _WEB_SCHEMES or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")

    canonical = urlsplit(_w3lib_canonicalize(text))
    host = canonical.hostname or ""
    host = rules.host_map.get(host, host)
    netloc = f"[{host}]" if ":" in host else host  # IPv6 literal
    if canonical.username is not None or canonical.password is not None:
        # Credentials are rare on news links and never ours to drop.
        netloc = canonical.netloc.rpartition("@")[0] + "@" + netloc
    if port is not None and str(port) != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    if rules.force_https:
        scheme = "https"
    path = _apply_path_rules(canonical.path, rules)
    query = _filter_query(canonical.query, rules)
    return urlunsplit((scheme, netloc, path, query, ""))


def url_host(url: str) -> str:
    """The lower-cased host of a URL ('' when there is none)."""
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def _host_key(host: str, rules: UrlRules | None) -> str:
    # The same treatment as a page's host: lower case, punycode, the outlet's host_map.
    try:
        return url_host(canonicalize_url(f"http://{host.strip().rstrip('.')}/", rules=rules))
    except ValueError:
        return ""


def pick_canonical(
    page_url: str,
    declared: str | None,
    allowed_hosts: Collection[str],
    rules: UrlRules | None = None,
) -> str:
    """Choose a page's canonical URL: its declared one (rel=canonical / og:url) or its own.

    The declared URL (resolved against the page URL when relative) wins when it is an http(s)
    URL on one of the outlet's `allowed_hosts` and does not point at the site's home page (a
    common CMS misconfiguration); otherwise the page URL is used. The result is always
    canonicalised with `rules`. Raises ValueError only when `page_url` itself is not a URL.
    """
    fallback = canonicalize_url(page_url, rules=rules)
    if not declared or not declared.strip():
        return fallback
    try:
        candidate = canonicalize_url(urljoin(page_url.strip(), declared.strip()), rules=rules)
    except ValueError:
        return fallback
    if url_host(candidate) not in {_host_key(h, rules) for h in allowed_hosts}:
        return fallback
    if urlsplit(candidate).path == "/" and urlsplit(fallback).path != "/":
        return fallback
    return candidate
