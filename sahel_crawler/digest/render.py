"""Render a digest as Markdown, HTML (one self-contained file) or JSON (schema.json).

HTML is autoescaped by Jinja2; Markdown escapes crawled text itself (Markdown viewers render
raw HTML). Links are made only for http(s) URLs; anything else is shown as text.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from sahel_crawler.digest.build import (
    SPIKE_MIN_STORIES,
    SPIKE_RATIO,
    TREND_DAYS,
    ConceptSection,
    Copy,
    Digest,
    ShownArticle,
    Story,
    TopStory,
)
from sahel_crawler.digest.map import map_svg
from sahel_crawler.digest.safety import safe_url

FORMATS = ("markdown", "html", "json")
SCHEMA_PATH = Path(__file__).with_name("schema.json")
SCHEMA_VERSION = 1
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~])")
# What GitHub's autolink extension links in text: scheme:// URLs, www. names, e-mail addresses
# (mailto: and xmpp: links need one too).
_SCHEME_COLON = re.compile(r"(?<=[A-Za-z]):(?=//)")
_WWW_DOT = re.compile(r"(www)\.", re.IGNORECASE)
# The word around an "@": what GFM's e-mail rule looks at (it takes more than addresses).
_AT_WORD = re.compile(r"[^\s`|]*@[^\s`|]*")
_SPARKS = "▁▂▃▄▅▆▇█"
LANGUAGE_NAMES = {"ar": "Arabic", "fr": "French", "en": "English", "und": "unknown"}


def render(digest: Digest, fmt: str) -> str:
    """The digest as text in `fmt` (markdown, html or json)."""
    if fmt == "json":
        return json.dumps(digest_json(digest), ensure_ascii=False, indent=2) + "\n"
    if fmt not in FORMATS:
        raise ValueError(f"unknown digest format {fmt!r} (expected one of {', '.join(FORMATS)})")
    chart = None
    if fmt == "html":
        from sahel_crawler.digest.chart import chart_svg  # matplotlib is slow to import: only when drawing

        chart = chart_svg(digest.history)
    place_map = map_svg(digest.places, map_language(digest)) if fmt == "html" else None
    template = _environment().get_template("digest.html" if fmt == "html" else "digest.md")
    return template.render(
        d=digest,
        chart=Markup(chart) if chart else None,  # our own matplotlib output, not crawled text
        place_map=Markup(place_map) if place_map else None,  # gazetteer labels only, escaped
        place_language=map_language(digest),
        spike_rule=f"at least {SPIKE_MIN_STORIES} stories and {SPIKE_RATIO:g}× the previous {TREND_DAYS}-day average",
        trend_days=TREND_DAYS,
    )


def map_language(digest: Digest) -> str:
    """The language places are labelled in: the digest's one selected language, else English."""
    selected = digest.filters.get("languages") or ()
    return selected[0] if len(selected) == 1 and selected[0] in ("ar", "fr", "en") else "en"


def subject(digest: Digest) -> str:
    """The email subject: built from the period and counts only, never from crawled text."""
    stories = digest.story_count
    found = f"{stories} flagged {'story' if stories == 1 else 'stories'}" if stories else "no flagged stories"
    return f"Sahel news digest {digest.period.label} ({digest.period.timezone}): {found}"


# -- JSON -----------------------------------------------------------------------------------


def digest_json(digest: Digest) -> dict[str, Any]:
    """The digest as the JSON document described by schema.json."""
    period = digest.period
    return {
        "schema_version": SCHEMA_VERSION,
        "date": period.first_day.isoformat(),
        "timezone": period.timezone,
        "since": _iso(period.start),
        "until": _iso(period.end),
        "generated_at": _iso(digest.generated_at),
        "filters": {k: list(v) for k, v in digest.filters.items()},
        "stories": [_top_story_json(s) for s in digest.stories],
        "concepts": [{**_concept_json(c), "story_ranks": digest.story_ranks(c)} for c in digest.concepts],
        "pairs": [
            {
                "concepts": [p.a, p.b],
                "labels": [p.a_label, p.b_label],
                "stories": p.stories,
                "previous": p.previous,
                "new": p.new,
            }
            for p in digest.pairs
        ],
        "outlets": [
            {
                "id": o.id,
                "name": o.name,
                "articles": o.articles,
                "flagged": o.flagged,
                "errors": o.errors,
                "status": o.status,
            }
            for o in digest.outlets
        ],
        "languages": digest.languages,
        "history": {
            "days": [d.isoformat() for d in digest.history.days],
            "concepts": {cid: list(counts) for cid, counts in digest.history.series.items()},
        },
        # PlaceCount's fields are the schema's keys of a place
        "places": [dataclasses.asdict(p) for p in digest.places],
    }


def _concept_json(concept: ConceptSection) -> dict[str, Any]:
    return {
        "id": concept.id,
        "label": concept.label,
        "category": concept.category,
        "count": concept.count,
        "articles": concept.articles,
        "previous_average": concept.previous_average,
        "change": concept.change,
        "spike": concept.spike,
        "outlets": concept.outlets,
        "languages": concept.languages,
        "stories": [_story_json(s) for s in concept.stories],
    }


def _story_json(story: Story) -> dict[str, Any]:
    return {**_shown_article(story), "snippet": story.snippet, "also": _copies_json(story.also)}


def _top_story_json(story: TopStory) -> dict[str, Any]:
    return {
        "rank": story.rank,
        **_shown_article(story),
        "lead": story.lead,
        "concepts": [cid for cid, _ in story.concepts],
        "outlets": list(story.outlets),
        "languages": list(story.languages),
        "copies": _copies_json(story.copies),
    }


def _shown_article(story: ShownArticle) -> dict[str, Any]:
    """The keys of the article a story shows."""
    return {
        "url": story.url,
        "title": story.title,
        "outlet": story.outlet,
        "language": story.language,
        "published_at": _iso(story.published_at),
    }


def _copies_json(copies: tuple[Copy, ...]) -> list[dict[str, Any]]:
    return [{"url": c.url, "outlet": c.outlet} for c in copies]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# -- Jinja2 ---------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")),
        # Markdown is plain text: autoescape is off for it alone, crawled text goes through `md`
        autoescape=lambda name: not (name or "").endswith(".md"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=md_escape,
        md_url=md_url,
        safe_url=safe_url,
        direction=direction,
        local=_local_time,
        signed=_signed,
        spark=_spark,
        language_name=lambda code: LANGUAGE_NAMES.get(code or "und", code),
    )
    env.globals["copy_label"] = _copy_label
    return env


def md_escape(value: object) -> str:
    """Text with Markdown and HTML syntax characters backslash-escaped, on one line, and nothing
    a GFM renderer would turn into a link: a crawled title must not link where it likes."""
    text = " ".join(str(value).split())
    parts: list[str] = []
    done = 0
    for word in _AT_WORD.finditer(text):
        # GFM links an address whatever is escaped in it; a code span it leaves alone
        parts += [_md_text(text[done : word.start()]), f"`{word[0]}`"]
        done = word.end()
    parts.append(_md_text(text[done:]))
    return "".join(parts)


def _md_text(text: str) -> str:
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # "https\://" and "www\." render as typed (the escape disappears) but are never autolinked
    return _WWW_DOT.sub(r"\1\\.", _SCHEME_COLON.sub(r"\\:", text))


def md_url(url: str) -> str | None:
    """An http(s) URL made safe inside Markdown link parentheses; None for any other URL."""
    if safe_url(url) is None:
        return None
    return url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def direction(language: str | None) -> str:
    """The HTML `dir` of an item in `language`: rtl or ltr when known, auto otherwise."""
    if not language:
        return "auto"
    return "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def _local_time(moment: datetime | None, digest: Digest) -> str:
    if moment is None:
        return "time unknown"
    return moment.astimezone(digest.period.zone).strftime("%Y-%m-%d %H:%M")


def _signed(value: float) -> str:
    return f"{value:+.2f}".rstrip("0").rstrip(".") if value else "±0"


def _spark(counts: tuple[int, ...]) -> str:
    top = max(counts) or 1
    return "".join(_SPARKS[round(c / top * (len(_SPARKS) - 1))] if c else "·" for c in counts)


def _copy_label(copy: Copy) -> str:
    return copy.outlet_name or copy.outlet or "exact copy"
