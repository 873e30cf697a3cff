"""Watch rules (`watch.yaml`, docs/alerts.md): read through `read_yaml`, validated with pydantic.

Every problem is one line naming the file, the rule and the key, as for the other
configuration files (`sahel_crawler.config_errors`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sahel_crawler.config_errors import validated
from sahel_crawler.configfile import clipped, read_yaml, shown
from sahel_crawler.digest.mail import parse_addresses
from sahel_crawler.query import Node, QueryError, QueryEvaluator, parse_query


class WatchError(ValueError):
    """A watch file that cannot be used; the message names the file, the rule and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Delivery(_Strict):
    """One channel: a webhook URL, an email address or an Atom feed file (exactly one)."""

    webhook: str | None = None
    email: str | None = None
    feed: str | None = None

    @model_validator(mode="after")
    def _one_channel(self) -> Delivery:
        given = [name for name in ("webhook", "email", "feed") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give one of webhook, email, feed (exactly one)")
        return self

    @field_validator("webhook")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http:// or https:// URL with a host")
        return value

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and len(parse_addresses([value], "address")) != 1:
            raise ValueError("must be one email address")
        return value

    @property
    def channel(self) -> str:
        """The key deliveries are recorded under: a webhook by its host and a hash of its URL,
        so that no path or query secret is ever stored or shown."""
        if self.webhook is not None:
            digest = hashlib.sha256(self.webhook.encode()).hexdigest()[:12]
            return f"webhook:{urlsplit(self.webhook).hostname}:{digest}"
        return f"email:{self.email}" if self.email is not None else f"feed:{self.feed}"


class Breaking(_Strict):
    """A spike of stories flagged with any of `concepts` in the last `window_hours`, against the
    same hours of the previous 7 days."""

    concepts: list[str] = Field(min_length=1)
    window_hours: float = Field(default=6, gt=0, le=24)
    min_stories: int = Field(default=3, ge=1)
    factor: float = Field(default=3, ge=1)


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_-]+$", max_length=64)
    query: str | None = None
    breaking: Breaking | None = None
    deliver: list[Delivery] = Field(min_length=1)

    @model_validator(mode="after")
    def _query_or_breaking(self) -> Rule:
        if (self.query is None) == (self.breaking is None):
            raise ValueError("give either query or breaking")
        return self


class WatchFile(_Strict):
    rules: list[Rule]


@dataclass(frozen=True)
class WatchRule:
    """A validated rule, its query parsed."""

    spec: Rule
    node: Node | None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def definition(self) -> str:
        return self.spec.query if self.spec.query is not None else self.spec.breaking.model_dump_json()  # type: ignore[union-attr]

    def channels(self) -> dict[str, Delivery]:
        return {delivery.channel: delivery for delivery in self.spec.deliver}


def load_watch(path: str | Path, evaluator: QueryEvaluator) -> list[WatchRule]:
    """The rules of a watch file, validated, their queries parsed and checked against the
    lexicon; WatchError (one line naming file, rule and key) otherwise."""
    file = Path(path)
    try:
        raw = read_yaml(file, "watch file")
    except ValueError as exc:
        raise WatchError(str(exc)) from None
    parsed = validated(
        WatchFile, raw, file, error=WatchError, container="rules", entry="rule",
        shape="expected a mapping with a list of rules under 'rules'",
    )  # fmt: skip
    rules: list[WatchRule] = []
    seen: set[str] = set()
    for rule in parsed.rules:
        where = f"{file}: rule {shown(rule.id)}"
        if rule.id in seen:
            raise WatchError(f"{where}: key 'id': given to two rules")
        seen.add(rule.id)
        node = None
        try:
            if rule.query is not None:
                node = parse_query(rule.query)
                evaluator.check(node, rule.query)
            else:
                evaluator.lexicon.concept_ids(rule.breaking.concepts)  # type: ignore[union-attr]
        except QueryError as exc:
            raise WatchError(f"{where}: key 'query': {exc}") from None
        except ValueError as exc:
            raise WatchError(
                f"{where}: key 'breaking.concepts': {clipped(str(exc).removeprefix('--concept '))}"
            ) from None
        rules.append(WatchRule(rule, node))
    return rules
