"""A rule's alerts as an Atom (or RSS) feed, through feedgen; written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from feedgen.feed import FeedGenerator

from sahel_crawler.alerts.payload import alert_html
from storage.models import Alert, Article, utcnow


def build_feed(rule_id: str, alerts: list[tuple[Alert, list[Article]]], fmt: str = "atom") -> bytes:
    """The feed of a rule's alerts (newest first): each entry links to the story's first
    article and carries its title, snippet, outlets, languages and concepts."""
    feed = FeedGenerator()
    feed.id(f"urn:sahel-news-monitor:alerts:{rule_id}")
    feed.title(f"Sahel news monitor: {rule_id}")
    feed.description(f"Alerts of the watch rule {rule_id}")
    feed.link(href=f"urn:sahel-news-monitor:alerts:{rule_id}", rel="self")
    feed.updated(alerts[0][0].created_at if alerts else utcnow())
    for alert, articles in reversed(alerts):  # feedgen puts the last added entry first
        entry = feed.add_entry()
        entry.id(f"urn:sahel-news-monitor:alert:{rule_id}:{alert.id}")
        entry.title(alert.title)
        links = [a.url for a in articles if a.url.startswith(("https://", "http://"))]
        if links:
            entry.link(href=links[0])
        entry.summary(alert.snippet or alert.title)
        entry.content(alert_html(alert, articles), type="html")
        entry.published(alert.created_at)
        entry.updated(alert.created_at)
        for concept in filter(None, alert.concepts.split(",")):
            entry.category(term=concept, scheme="urn:sahel-news-monitor:concept")
        for article in articles:
            entry.category(term=f"outlet:{article.outlet_id}", scheme="urn:sahel-news-monitor:outlet")
            if article.language:
                entry.category(term=f"lang:{article.language}", scheme="urn:sahel-news-monitor:language")
    return feed.rss_str(pretty=True) if fmt == "rss" else feed.atom_str(pretty=True)


def write_feed(path: str | Path, data: bytes) -> None:
    """Replace the file at `path` with `data` in one step (readers never see half a feed)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
