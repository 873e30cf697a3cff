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
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, model_validator

from sahel_crawler.config_errors import shown, validated
from sahel_crawler.configfile import ConfigFileError, clipped, parse_yaml, read_yaml
from sahel_crawler.extraction.rules import ExtractionRules
from sahel_crawler.text.urls import UrlRules

DEFAULT_SOURCES = Path(__file__).with_name("sources.yaml")
_OUTLET_ID = re.compile(r"^[a-z0-9_-]+$")
# Who the outlet is, for analysts (docs/sources.md "Outlet metadata"); every key optional.
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
    # -- outlet metadata (see _OutletEntry) --
    country: str | None = None  # ISO 3166 alpha-2 code of where the outlet is based
    languages: tuple[str, ...] = ()  # ISO 639-1 codes it publishes in
    kind: str | None = None  # one of OUTLET_KINDS
    owner: str | None = None
    state_affiliated: str | None = None  # one of FUNDING
    archive_sitemaps: tuple[str, ...] = ()  # sitemap indexes of monthly archives (`sahel backfill`)

    def start_urls(self) -> list[tuple[str, str]]:
        """(page type, url) pairs the spider starts from: feeds, then sitemaps, then sections."""
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
    shape = "expected a mapping with a non-empty 'outlets:' mapping at the top"
    document = validated(
        _RegistryFile, raw, path, error=RegistryError, container="outlets", entry="outlet", shape=shape
    )
    return Registry(path=path, outlets={oid: entry.outlet(oid) for oid, entry in document.outlets.items()})


def _listed(value: Any) -> Any:
    """A single string where a list belongs is a list of one."""
    return [value] if isinstance(value, str) else value


def _stripped(value: str) -> str:
    if not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def _outlet_id(value: str) -> str:
    if not _OUTLET_ID.match(value):
        raise ValueError("outlet id must match [a-z0-9_-]+")
    return value


def _usable_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # both raise on what Scrapy could not request
        ascii_host(host or "")
    except ValueError as exc:
        raise ValueError(f"{shown(url)} is not a usable URL: {clipped(exc)}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"{shown(url)} is not an http(s) URL")
    return url


def _host_name(host: str) -> str:
    try:
        return ascii_host(host)
    except ValueError:
        raise ValueError(f"{shown(host)} is not a host name") from None


def _one_of(allowed: tuple[str, ...]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return AfterValidator(check)


def _code(pattern: str, example: str) -> AfterValidator:
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise ValueError(f"must be a code such as {example}")
        return value

    return AfterValidator(check)


def _pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"bad regular expression {shown(pattern)}: {clipped(exc)}") from None


_Text = Annotated[str, AfterValidator(_stripped)]
_Texts = Annotated[list[_Text], BeforeValidator(_listed)]
_Urls = Annotated[list[Annotated[_Text, AfterValidator(_usable_url)]], BeforeValidator(_listed)]
_Hosts = Annotated[list[Annotated[_Text, AfterValidator(_host_name)]], BeforeValidator(_listed)]
_Patterns = Annotated[list[Annotated[_Text, AfterValidator(_pattern)]], BeforeValidator(_listed)]


def _rules_of(parse: Any) -> Any:
    return AfterValidator(lambda value: parse(value or {}))


class _OutletEntry(BaseModel):
    """One outlet as the sources file writes it (docs/sources.md)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    name: _Text
    feeds: _Urls = []
    sitemaps: _Urls = []
    sections: _Urls = []
    allow: _Patterns = []
    deny: _Patterns = []
    hosts: _Hosts = []
    extraction: Annotated[dict[str, Any] | None, _rules_of(ExtractionRules.from_mapping)] = None
    urls: Annotated[dict[str, Any] | None, _rules_of(UrlRules.from_mapping)] = None
    language: Any = None
    notes: Any = None
    verify_tls: StrictBool = True
    # -- outlet metadata (docs/sources.md "Outlet metadata") --
    country: Annotated[_Text, _code(r"[A-Z]{2}", "FR (ISO 3166)")] | None = None
    languages: Annotated[list[Annotated[_Text, _code(r"[a-z]{2,3}", "fr (ISO 639)")]], BeforeValidator(_listed)] = []
    kind: Annotated[_Text, _one_of(OUTLET_KINDS)] | None = None
    owner: _Text | None = None
    state_affiliated: Annotated[_Text, _one_of(FUNDING)] | None = None
    archive_sitemaps: _Urls = []

    @model_validator(mode="after")
    def _has_a_start(self) -> _OutletEntry:
        if not (self.feeds or self.sitemaps or self.sections):
            raise ValueError("at least one of 'feeds', 'sitemaps', 'sections' is required")
        return self

    def outlet(self, oid: str) -> Outlet:
        """The registry's Outlet for this entry."""
        listed = (*self.feeds, *self.sitemaps, *self.sections, *self.archive_sitemaps)
        hosts = {ascii_host(urlsplit(u).hostname or "") for u in listed} | set(self.hosts)
        return Outlet(
            id=oid,
            name=self.name,
            feeds=tuple(self.feeds),
            sitemaps=tuple(self.sitemaps),
            sections=tuple(self.sections),
            allow=tuple(self.allow),
            deny=tuple(self.deny),
            hosts=frozenset(h for h in hosts if h),
            extraction=self.extraction or ExtractionRules(),
            urls=self.urls or UrlRules(),
            verify_tls=self.verify_tls,
            country=self.country,
            languages=tuple(self.languages),
            kind=self.kind,
            owner=self.owner,
            state_affiliated=self.state_affiliated,
            archive_sitemaps=tuple(self.archive_sitemaps),
        )


class _RegistryFile(BaseModel):
    """The whole sources file."""

    model_config = ConfigDict(extra="forbid")

    outlets: Annotated[dict[Annotated[str, AfterValidator(_outlet_id)], _OutletEntry], Field(min_length=1)]


def ascii_host(host: str) -> str:
    """A host name as requests carry it: lower case, an internationalised name in its IDNA
    (punycode) form, as Scrapy sends it; ValueError when it cannot be encoded."""
    host = host.strip().lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{shown(host)} is not a valid host name ({clipped(exc)})") from None


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
