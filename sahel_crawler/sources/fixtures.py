"""Real-page fixtures per outlet: saved pages with the values a correct crawl stores for them.

One YAML file per outlet in `fixtures/` (docs/sources.md "Real-page fixtures"); `lacking.yaml`
names the outlets that have no saved page yet, and why. A page lives in the shared corpus
(`corpus/...`, read in place: the texts belong to their publishers) or beside the fixture file.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from lxml import html as lxml_html

FIXTURES_DIR = Path(__file__).with_name("fixtures")
LACKING_FILE = FIXTURES_DIR / "lacking.yaml"
DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
CORPUS_PREFIX = "corpus/"
DEFAULT_MIN_F1 = 0.9


@dataclass(frozen=True)
class PageFixture:
    """One saved page of an outlet and what must be stored for it."""

    outlet: str
    page: str  # "corpus/..." (the shared corpus) or a path relative to the fixtures folder
    url: str  # the URL the page was saved from
    saved: date | None  # when it was saved
    title: str
    authors: tuple[str, ...] = ()
    published_on: date | None = None
    body: str | None = None  # where the expected body is: "corpus/...json#V1" or "corpus/...html"
    min_f1: float = DEFAULT_MIN_F1
    paywalled: bool = False
    standfirst: str | None = None  # the expected start of the stored standfirst
    folder: Path = FIXTURES_DIR  # the fixtures folder the entry was read from

    def page_path(self, corpus: Path = DEFAULT_CORPUS) -> Path:
        """Where the saved page is on this machine."""
        return _resolve(self.page, corpus, self.folder)

    def page_bytes(self, corpus: Path = DEFAULT_CORPUS) -> bytes:
        """The saved page as served (gunzipped when saved as .gz)."""
        data = self.page_path(corpus).read_bytes()
        return gzip.decompress(data) if self.page.endswith(".gz") else data

    def expected_body(self, corpus: Path = DEFAULT_CORPUS) -> str | None:
        """The hand-checked body text, one paragraph per line; None when the fixture has none."""
        if not self.body:
            return None
        where, _, version = self.body.partition("#")
        path = _resolve(where, corpus, self.folder)
        if path.suffix == ".json":
            return _fundus_body(json.loads(path.read_text(encoding="utf-8"))[version or "V1"])
        return blocks_text(path.read_text(encoding="utf-8"))


def _resolve(where: str, corpus: Path, folder: Path) -> Path:
    return corpus / where[len(CORPUS_PREFIX) :] if where.startswith(CORPUS_PREFIX) else folder / where


def _fundus_body(version: dict[str, Any]) -> str:
    body = version["body"]
    lines = list(body.get("summary", []))
    for section in body.get("sections", []):
        lines += section.get("headline", []) + section.get("paragraphs", [])
    return "\n".join(lines)


def blocks_text(page: str) -> str:
    """Text of a readability `expected.html`, one line per block."""
    tree = lxml_html.fromstring(page)
    blocks = tree.xpath("//p|//h1|//h2|//h3|//h4|//li|//blockquote")
    return "\n".join(" ".join(b.text_content().split()) for b in blocks) or tree.text_content()


def load_fixtures(outlet: str, folder: Path = FIXTURES_DIR) -> list[PageFixture]:
    """The outlet's page fixtures (none when it has no fixture file)."""
    path = folder / f"{outlet}.yaml"
    if not path.is_file():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [_fixture(outlet, entry, folder) for entry in raw.get("pages", [])]


def _fixture(outlet: str, entry: dict[str, Any], folder: Path) -> PageFixture:
    return PageFixture(
        folder=folder,
        outlet=outlet,
        page=entry["page"],
        url=entry["url"],
        saved=entry.get("saved"),
        title=entry["title"],
        authors=tuple(entry.get("authors") or ()),
        published_on=entry.get("published_on"),
        body=entry.get("body"),
        min_f1=float(entry.get("min_f1", DEFAULT_MIN_F1)),
        paywalled=bool(entry.get("paywalled", False)),
        standfirst=entry.get("standfirst"),
    )


def lacking_fixtures(folder: Path = FIXTURES_DIR) -> dict[str, str]:
    """Outlet id -> why it has no real-page fixture yet."""
    path = folder / LACKING_FILE.name
    if not path.is_file():
        return {}
    return {str(k): str(v) for k, v in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items()}


def fixture_status(outlet: str, folder: Path = FIXTURES_DIR) -> str:
    """What `sahel sources list` says of an outlet's fixtures: "2 pages", "lacking: why", "none"."""
    pages = load_fixtures(outlet, folder)
    if pages:
        return f"{len(pages)} page{'s' if len(pages) > 1 else ''}"
    reason = lacking_fixtures(folder).get(outlet)
    return f"lacking: {reason}" if reason else "none"


def fixture_entry(page: str, url: str, saved: date, extracted: Any) -> dict[str, Any]:
    """A fixture entry for a saved page, filled with what extraction finds now, to hand-check."""
    authors = [a.strip() for a in (extracted.author or "").split(",") if a.strip()] if extracted else []
    entry: dict[str, Any] = {
        "page": page,
        "url": url,
        "saved": saved,
        "title": extracted.title if extracted else "",
        "authors": authors,
        "published_on": extracted.published_on if extracted else None,
        "min_f1": DEFAULT_MIN_F1,
        "paywalled": bool(extracted and extracted.paywalled),
    }
    if extracted and extracted.standfirst:
        entry["standfirst"] = extracted.standfirst[:80]
    return entry


def add_fixture(outlet: str, entry: dict[str, Any], folder: Path = FIXTURES_DIR) -> Path:
    """Append `entry` to the outlet's fixture file (created when missing) and take the outlet off
    the lacking list; return the fixture file."""
    path = folder / f"{outlet}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    raw = raw or {"pages": []}
    raw["pages"].append(entry)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")
    lacking = folder / LACKING_FILE.name
    if lacking.is_file():  # line by line, so the file's comments stay
        lines = lacking.read_text(encoding="utf-8").splitlines(keepends=True)
        lacking.write_text("".join(x for x in lines if not x.startswith(f"{outlet}:")), encoding="utf-8")
    return path


def page_reference(file: Path, folder: Path = FIXTURES_DIR, corpus: Path = DEFAULT_CORPUS) -> str:
    """How a fixture names a saved page: "corpus/..." inside the shared corpus, else its path
    relative to the fixtures folder (the page must then be copied there)."""
    resolved = file.resolve()
    for root, prefix in ((corpus.resolve(), CORPUS_PREFIX), (folder.resolve(), "")):
        if resolved.is_relative_to(root):
            return prefix + resolved.relative_to(root).as_posix()
    raise ValueError(f"{file} is neither in the shared corpus ({corpus}) nor in {folder}: copy it there first")
