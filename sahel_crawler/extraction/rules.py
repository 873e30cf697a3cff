"""Per-outlet extraction rules, as declared under `extraction:` in the sources registry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from cssselect import GenericTranslator, SelectorError

from sahel_crawler.configfile import clipped, shown

_TRANSLATOR = GenericTranslator()


def css_to_xpath(selector: str) -> str:
    """Translate a CSS selector to XPath; raise ValueError when it does not parse."""
    try:
        return _TRANSLATOR.css_to_xpath(selector)
    except SelectorError as exc:
        raise ValueError(f"invalid CSS selector {shown(selector)}: {clipped(exc)}") from exc


@dataclass(frozen=True)
class ExtractionRules:
    """Per-outlet extraction rules from the sources registry (key `extraction:` of an outlet).

    Every selector is CSS. Selectors are checked when the rules are built, so a typo in the
    registry fails at load time, not silently during a crawl.
    """

    # CSS selector of the article body, used when the generic extractor finds nothing or too little.
    body_selector: str | None = None
    # CSS selectors of boilerplate (related lists, share bars, newsletters) removed before extraction.
    drop_selectors: tuple[str, ...] = ()
    # CSS selectors whose text wins over the generic metadata (every distinct author match, joined).
    title_selector: str | None = None
    author_selector: str | None = None
    # Element carrying the publication date: its `datetime`/`content` attribute, else its text.
    date_selector: str | None = None
    # True: the JSON-LD date wins over date_selector (the selector is the fallback).
    date_after_jsonld: bool = False
    # The visible lead paragraph (chapô) that is stored as the standfirst.
    standfirst_selector: str | None = None
    # Markup that only a subscriber-only (paywalled) page carries.
    paywall_selector: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.date_after_jsonld, bool):
            raise ValueError("extraction.date_after_jsonld must be true or false")
        for name in (
            "body_selector", "title_selector", "author_selector", "date_selector", "standfirst_selector",
            "paywall_selector",
        ):  # fmt: skip
            value = getattr(self, name)
            if value is not None:
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"extraction.{name} must be a non-empty CSS selector string")
                css_to_xpath(value)
        if isinstance(self.drop_selectors, str) or not isinstance(self.drop_selectors, tuple):
            raise ValueError("extraction.drop_selectors must be a list of CSS selectors")
        for value in self.drop_selectors:
            if not isinstance(value, str) or not value.strip():
                raise ValueError("extraction.drop_selectors must contain non-empty CSS selector strings")
            css_to_xpath(value)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> ExtractionRules:
        """Build rules from the registry mapping; raise ValueError naming an unknown or bad key."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError("extraction must be a mapping of rule names to CSS selectors")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise ValueError(
                f"unknown extraction key(s): {', '.join(unknown)}; expected one of {', '.join(sorted(known))}"
            )
        values = dict(data)
        drops = values.get("drop_selectors")
        if drops is not None:
            if isinstance(drops, str) or not isinstance(drops, list | tuple):
                raise ValueError("extraction.drop_selectors must be a list of CSS selectors")
            values["drop_selectors"] = tuple(drops)
        return cls(**values)

    @property
    def is_empty(self) -> bool:
        """True when no rule is set (the generic extractor runs alone)."""
        return self == ExtractionRules()
