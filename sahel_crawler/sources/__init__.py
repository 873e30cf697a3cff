"""The sources registry: which outlets to crawl and how to find their articles.

One declarative YAML entry per outlet, validated when it loads (see docs/sources.md).
Errors name the file, the outlet and the key, so a user can fix the file at once.

A file is parsed once per process while it stays unchanged: the spider, the middlewares and every
pipeline of a crawl share one Registry, and so one set of URL rules and their canonical-URL cache.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sahel_crawler.configfile import ConfigFileError, parse_yaml, read_yaml
from sahel_crawler.extraction.rules import ExtractionRules
from sahel_crawler.text.urls import UrlRules

DEFAULT_SOURCES = Path(__file__).with_name("sources.yaml")
_OUTLET_ID = re.compile(r"^[a-z0-9_-]+$")
_URL_LISTS = ("feeds", "sitemaps", "sections")
_RULES = {"extraction": ExtractionRules.from_mapping, "urls": UrlRules.from_mapping}
_KNOWN_KEYS = {"name", *_URL_LISTS, "allow", "deny", "hosts", "extraction", "urls", "language", "notes", "verify_tls"}
# Who the outlet is, for analysts (docs/sources.md "Outlet metadata"); every key optional.
_METADATA_KEYS = ("country", "languages", "kind", "owner", "state_affiliated")
OUTLET_KINDS = ("agency", "broadcaster", "newspaper", "magazine", "online")
FUNDING = ("state-funded", "publicly-funded", "private")


class RegistryError(ValueError):
    """A sources file that cannot be used; the message names file, outlet and key."""


@dataclass(frozen=True)
class Outlet:
    """One outlet of the registry."""

    id: str
    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    allow: tuple[re.Pattern[str], ...] = ()
    deny: tuple[re.Pattern[str], ...] = ()
    hosts: frozenset[str] = frozenset()  # every host of its URLs, plus any listed under `hosts`
    extraction: ExtractionRules = field(default_factory=ExtractionRules)  # per-outlet extraction rules
    urls: UrlRules = field(default_factory=UrlRules)  # per-outlet URL canonicalisation rules
    verify_tls: bool = True  # False: its hosts' TLS certificates are not verified
    # -- outlet metadata (see _metadata) --
    country: str | None = None  # ISO 3166 alpha-2 code of where the outlet is based
    languages: tuple[str, ...] = ()  # ISO 639-1 codes it publishes in
    kind: str | None = None  # one of OUTLET_KINDS
    owner: str | None = None
    state_affiliated: str | None = None  # one of FUNDING

    def start_urls(self) -> list[tuple[str, str]]:
        """(kind, url) pairs the spider starts from: feeds, then sitemaps, then sections."""
        return [
            *(("feed", u) for u in self.feeds),
            *(("sitemap", u) for u in self.sitemaps),
            *(("section", u) for u in self.sections),
        ]

    def owns(self, url: str) -> bool:
        """True when the URL is on one of this outlet's hosts or a subdomain of one (the rule of
        Scrapy's offsite filter: a feed at example.com may list www.example.com articles)."""
        try:
            host = ascii_host(urlsplit(url).hostname or "")
        except ValueError:
            return False
        return host in self.hosts or any(host.endswith(f".{h}") for h in self.hosts)

    def accepts_article_url(self, url: str) -> bool:
        """The outlet's allow/deny rules: every allow must be absent or one must match; no deny may.

        Each rule sees the URL as written and percent-decoded (NFC), so `/vidéo/` in the registry
        also drops `/vid%C3%A9o/` and `/vide%CC%81o/`."""
        forms = url_forms(url)
        if any(p.search(form) for p in self.deny for form in forms):
            return False
        return not self.allow or any(p.search(form) for p in self.allow for form in forms)


def url_forms(url: str) -> tuple[str, ...]:
    """A URL as written and its percent-decoded, NFC-normalised form (the one a reader sees)."""
    decoded = unicodedata.normalize("NFC", unquote(url, errors="replace"))
    return (url,) if decoded == url else (url, decoded)


@dataclass(frozen=True)
class Registry:
    """All outlets of one sources file; shared by every reader of the file, so never modified."""

    path: Path
    outlets: dict[str, Outlet]

    def select(self, ids: list[str] | None) -> list[Outlet]:
        """The outlets named in `ids` (all when empty); unknown ids are a RegistryError."""
        if not ids:
            return list(self.outlets.values())
        unknown = [i for i in ids if i not in self.outlets]
        if unknown:
            raise RegistryError(f"{self.path}: unknown outlet {', '.join(unknown)!s}; known: {', '.join(self.outlets)}")
        return [self.outlets[i] for i in ids]


def load_registry(path: str | Path | None = None) -> Registry:
    """The validated registry of a sources file (the bundled one when `path` is None).

    Parsed on first use and whenever the file's content changes; until then every call for the
    same file returns the same Registry object.
    """
    path = Path(path) if path else DEFAULT_SOURCES
    try:
        data = path.read_bytes()
    except OSError:
        return _parse_registry(path, _document(path, None))  # raises, naming the problem
    # A content digest, not the mtime: a file rewritten within one tick of the file system's
    # clock must still be read again.
    key, digest = path.resolve(), hashlib.sha256(data).digest()
    with _LOADED_LOCK:
        loaded = _LOADED.get(key)
        if loaded is None or loaded[0] != digest:
            loaded = _LOADED[key] = (digest, _parse_registry(path, _document(path, data)))
        return loaded[1]


# Resolved path -> (SHA-256 of the content, its registry).
_LOADED: dict[Path, tuple[bytes, Registry]] = {}
_LOADED_LOCK = threading.Lock()


def _document(path: Path, data: bytes | None) -> Any:
    """The YAML document of the sources file (`data`, or read from `path` when None)."""
    try:
        return read_yaml(path, "sources file") if data is None else parse_yaml(data, path, "sources file")
    except ConfigFileError as exc:
        raise RegistryError(str(exc)) from None


def _parse_registry(path: Path, raw: Any) -> Registry:
    if not isinstance(raw, dict) or not isinstance(raw.get("outlets"), dict) or not raw["outlets"]:
        raise RegistryError(f"{path}: expected a mapping with a non-empty 'outlets:' mapping at the top")
    extra = set(raw) - {"outlets"}
    if extra:
        raise RegistryError(f"{path}: unknown top-level key {sorted(extra)[0]!r}")
    outlets = {oid: _parse_outlet(path, oid, entry) for oid, entry in raw["outlets"].items()}
    return Registry(path=path, outlets=outlets)


def _parse_outlet(path: Path, oid: Any, entry: Any) -> Outlet:
    where = f"{path}: outlet {oid!r}"
    if not isinstance(oid, str) or not _OUTLET_ID.match(oid):
        raise RegistryError(f"{where}: outlet id must match [a-z0-9_-]+")
    if not isinstance(entry, dict):
        raise RegistryError(f"{where}: expected a mapping of keys")
    unknown = set(entry) - _KNOWN_KEYS - set(_METADATA_KEYS)
    if unknown:
        raise RegistryError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RegistryError(f"{where}: key 'name' is required (a non-empty string)")
    lists = {key: _url_list(where, key, entry.get(key)) for key in _URL_LISTS}
    if not any(lists.values()):
        raise RegistryError(f"{where}: at least one of 'feeds', 'sitemaps', 'sections' is required")
    hosts = {ascii_host(urlsplit(u).hostname or "") for urls in lists.values() for u in urls}
    for host in _str_list(where, "hosts", entry.get("hosts")):
        try:
            hosts.add(ascii_host(host))
        except ValueError:
            raise RegistryError(f"{where}: key 'hosts': {host!r} is not a host name") from None
    rules = {key: _rules(where, key, entry.get(key), parse) for key, parse in _RULES.items()}
    verify_tls = entry.get("verify_tls", True)
    if not isinstance(verify_tls, bool):
        raise RegistryError(f"{where}: key 'verify_tls' must be true or false")
    return Outlet(
        id=oid,
        name=name.strip(),
        **{k: tuple(v) for k, v in lists.items()},
        allow=_patterns(where, "allow", entry.get("allow")),
        deny=_patterns(where, "deny", entry.get("deny")),
        hosts=frozenset(h for h in hosts if h),
        verify_tls=verify_tls,
        **rules,
        **_metadata(where, entry),
    )


def _metadata(where: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The outlet's metadata keys, checked: short codes, known kinds and funding values."""
    found: dict[str, Any] = {}
    for key in ("country", "kind", "owner", "state_affiliated"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise RegistryError(f"{where}: key {key!r} must be a non-empty string")
        found[key] = value.strip() if value else None
    country = found["country"]
    if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
        raise RegistryError(f"{where}: key 'country' must be an ISO 3166 code such as FR")
    for key, allowed in (("kind", OUTLET_KINDS), ("state_affiliated", FUNDING)):
        if found[key] is not None and found[key] not in allowed:
            raise RegistryError(f"{where}: key {key!r} must be one of {', '.join(allowed)}")
    languages = _str_list(where, "languages", entry.get("languages"))
    if not all(re.fullmatch(r"[a-z]{2,3}", code) for code in languages):
        raise RegistryError(f"{where}: key 'languages' must list ISO 639 codes such as fr, ar")
    found["languages"] = tuple(languages)
    return found


def _rules(where: str, key: str, value: Any, parse: Any) -> Any:
    if value is not None and not isinstance(value, dict):
        raise RegistryError(f"{where}: key {key!r} must be a mapping")
    try:
        return parse(value or {})
    except ValueError as exc:
        raise RegistryError(f"{where}: key {key!r}: {exc}") from None


def _str_list(where: str, key: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RegistryError(f"{where}: key {key!r} must be a list of strings")
    return [v.strip() for v in value]


def _url_list(where: str, key: str, value: Any) -> list[str]:
    urls = _str_list(where, key, value)
    for url in urls:
        try:
            parts = urlsplit(url)
            host, _ = parts.hostname, parts.port  # both raise on what Scrapy could not request
            ascii_host(host or "")
        except ValueError as exc:
            raise RegistryError(f"{where}: key {key!r}: {url!r} is not a usable URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not host:
            raise RegistryError(f"{where}: key {key!r}: {url!r} is not an http(s) URL")
    return urls


def ascii_host(host: str) -> str:
    """A host name as requests carry it: lower case, an internationalised name in its IDNA
    (punycode) form, as Scrapy sends it; ValueError when it cannot be encoded."""
    host = host.strip().lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{host!r} is not a valid host name ({exc})") from None


def _patterns(where: str, key: str, value: Any) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in _str_list(where, key, value):
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise RegistryError(f"{where}: key {key!r}: bad regular expression {pattern!r}: {exc}") from None
    return tuple(compiled)


def registry_from_settings(settings: Any) -> Registry:
    """The registry named by the SAHEL_SOURCES_PATH setting (bundled when unset); the same
    object for every component of a crawl (see `load_registry`)."""
    return load_registry(settings.get("SAHEL_SOURCES_PATH") or None)


def outlet_ids_from_setting(value: Any) -> list[str]:
    """SAHEL_OUTLETS as a list of ids, whether given as a list or a comma-separated string."""
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]
