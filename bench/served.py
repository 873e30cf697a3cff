"""Saved pages served on a loopback host, crawled by a real `sahel crawl` and read back with
`sahel export`: what the product stores, not what a function returns on the side.

Used by the extraction figures (bench/outlets.py, docs/performance.md) and by the tests that
check stored fields on real pages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import yaml

from sahel_crawler.demo import REPLAY_OVERRIDES, settings_args

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
FEED_PATH = "/feed.xml"


@dataclass(frozen=True)
class Page:
    """A saved page to serve: its path on the server, its bytes, and how the server answers."""

    path: str
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    title: str = ""  # the feed entry's title
    description: str = ""  # the feed entry's description


@dataclass
class ServedSite:
    """A running loopback server; `routes` maps a path to its page."""

    server: ThreadingHTTPServer
    routes: dict[str, Page] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path


def feed_xml(entries: list[tuple[str, Page]]) -> bytes:
    """An RSS 2.0 feed listing (url, page) entries with their titles and descriptions."""
    items = "".join(
        f"<item><title>{escape(p.title or url)}</title><link>{escape(url)}</link>"
        f"<description>{escape(p.description)}</description>"
        "<pubDate>Thu, 19 Nov 2026 08:00:00 GMT</pubDate><author>desk@example.org (Desk)</author>"
        "<category>Afrique</category></item>"
        for url, p in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>served</title>'
        f"<link>http://{HOST}/</link><description>saved pages</description>{items}</channel></rss>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        page = self.server.routes.get(urlsplit(self.path).path)
        if page is None:
            page = Page(self.path, b"not found", 404, "text/plain")
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        self.end_headers()
        self.wfile.write(page.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def served(pages: list[Page]) -> Iterator[ServedSite]:
    """Serve `pages` and a feed of them at FEED_PATH on 127.0.0.1, until the block ends."""
    server = ThreadingHTTPServer((HOST, 0), _Handler)
    site = ServedSite(server)
    site.routes.update({p.path: p for p in pages})
    feed = feed_xml([(site.url(p.path), p) for p in pages])
    site.routes[FEED_PATH] = Page(FEED_PATH, feed, content_type="application/rss+xml")
    server.routes = site.routes  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def sources_for(site: ServedSite, outlet: str, extraction: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A registry of one outlet whose feed is the served feed, with the given extraction rules."""
    entry: dict[str, Any] = {"name": outlet, "feeds": [site.url(FEED_PATH)]}
    if extraction:
        entry["extraction"] = dict(extraction)
    return {"outlets": {outlet: entry}}


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`python -m sahel_crawler ARGS` in a fresh process, with this checkout on the path."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "sahel_crawler", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def crawl_and_export(
    sources: Mapping[str, Any], folder: Path | None = None, settings: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Crawl with `sources` into a fresh SQLite database and return `sahel export`'s records."""
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(folder or scratch)
        registry = where / "sources.yaml"
        registry.write_text(yaml.safe_dump(dict(sources), allow_unicode=True), encoding="utf-8")
        db = f"sqlite:///{where / 'sahel.db'}"
        crawl_settings = {**REPLAY_OVERRIDES, "LOG_LEVEL": "WARNING", **(settings or {})}
        crawl = run_cli("crawl", "--sources", str(registry), "--db", db, *settings_args(crawl_settings))
        if crawl.returncode != 0:
            raise RuntimeError(f"sahel crawl exited {crawl.returncode}: {crawl.stderr[-2000:]}")
        export = run_cli("export", "--db", db, "--format", "jsonl")
        if export.returncode != 0:
            raise RuntimeError(f"sahel export exited {export.returncode}: {export.stderr[-2000:]}")
        return [json.loads(line) for line in export.stdout.splitlines()]


def bundled_extraction(outlet: str) -> dict[str, Any]:
    """The bundled registry's `extraction:` mapping of an outlet, as written in sources.yaml."""
    raw = yaml.safe_load((REPO / "sahel_crawler" / "sources" / "sources.yaml").read_text(encoding="utf-8"))
    return dict(raw["outlets"][outlet].get("extraction") or {})
