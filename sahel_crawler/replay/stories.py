"""The bundled stories (data/stories.yaml) and page chrome (data/chrome.yaml), loaded as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

DATA = resources.files("sahel_crawler.replay") / "data"
# The C loader is about 20 times faster on the Arabic-heavy story file.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Story:
    """One article (or video) page of the bundled site; see the key list in data/stories.yaml."""

    id: str
    outlet: str
    lang: str
    slug: str
    age_hours: float
    title: str
    standfirst: str = ""
    paragraphs: tuple[str, ...] = ()
    author: str | None = None
    concepts: tuple[str, ...] = ()
    section: str | None = None
    tags: tuple[str, ...] = ()
    kind: str = "article"
    tracking: bool = False
    alias_section: str | None = None
    encoding: str = "utf-8"
    syndicates: str | None = None
    lead: str | None = None
    dateline: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _story(raw: dict[str, Any]) -> Story:
    known = set(Story.__dataclass_fields__) - {"extra"}
    values = {key: value for key, value in raw.items() if key in known}
    for key in ("paragraphs", "concepts", "tags"):
        values[key] = tuple(values.get(key) or ())
    return Story(**values, extra={k: v for k, v in raw.items() if k not in known})


@cache
def load_stories() -> tuple[Story, ...]:
    """The bundled stories, syndicated copies completed from their originals."""
    raw = yaml.load(DATA.joinpath("stories.yaml").read_text(encoding="utf-8"), Loader=_Loader)
    stories = [_story(entry) for entry in raw["stories"]]
    by_id = {story.id: story for story in stories}
    if len(by_id) != len(stories):
        raise ValueError("duplicate story id in stories.yaml")
    completed = []
    for story in stories:
        if story.syndicates:
            original = by_id[story.syndicates]
            # A syndicated copy keeps the original body and replaces only its lead paragraph.
            paragraphs = (story.lead or original.paragraphs[0], *original.paragraphs[1:])
            story = Story(**{**story.__dict__, "paragraphs": paragraphs})
        completed.append(story)
    return tuple(completed)


@cache
def load_chrome() -> dict[str, dict[str, dict[str, Any]]]:
    """Navigation, banners and labels per outlet and language."""
    return yaml.load(DATA.joinpath("chrome.yaml").read_text(encoding="utf-8"), Loader=_Loader)
