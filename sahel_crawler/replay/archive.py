"""The replay's archive: monthly archive sitemaps of the bundled France 24 pages, WARC files of
replay pages, and a Wayback Machine that plays the CDX API and `id_` captures.

Used by the backfill tests and benchmark: an archive of the same real-shaped pages a crawl reads.
"""

from __future__ import annotations

import io
import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from sahel_crawler.replay.bundled import build_bundled_site
from sahel_crawler.replay.render import sitemap_index
from sahel_crawler.replay.server import decode_path
from sahel_crawler.replay.site import BuiltSite, StaticSite, cacheable

ARCHIVE_OUTLET = "france24"
# Months listed in the archive index besides those with articles: one before them, outside any
# period that starts with the articles' first month.
_EXTRA_MONTHS = 1


def _month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m")


def _previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[4:])
    return f"{year - 1}12" if number == 1 else f"{year}{number - 1:02d}"


def _urlset(entries: Iterable[tuple[str, datetime]]) -> bytes:
    rows = "".join(
        f"<url><loc>{escape(loc)}</loc><lastmod>{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}</lastmod></url>"
        for loc, moment in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>\n'
    ).encode()


def build_archive_site(base_urls: Mapping[str, str], now: datetime) -> BuiltSite:
    """The bundled site, with France 24's archive: /sitemaps/fr/index.xml listing one
    contents_YYYYMM.xml per month of its stored articles (and an empty earlier month)."""
    built = build_bundled_site(base_urls, now)
    site = built.sites[ARCHIVE_OUTLET]
    assert isinstance(site, StaticSite)
    by_month: defaultdict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for article in built.articles:
        if article.outlet == ARCHIVE_OUTLET and article.stored:
            by_month[_month(article.published_at)].append((article.url, article.published_at))
    months = sorted(by_month)
    for _ in range(_EXTRA_MONTHS):
        months.insert(0, _previous_month(months[0]))
    base = base_urls[ARCHIVE_OUTLET]
    children = []
    for month in months:
        path = f"/sitemaps/fr/contents_{month}.xml"
        modified = max((moment for _, moment in by_month[month]), default=now - timedelta(days=40))
        site.add(path, cacheable(_urlset(sorted(by_month[month])), "application/xml", modified))
        children.append((base + path, modified))
    site.add("/sitemaps/fr/index.xml", cacheable(sitemap_index(children), "application/xml", now))
    built.outlets[ARCHIVE_OUTLET]["archive_sitemaps"] = [base + "/sitemaps/fr/index.xml"]
    return built


@dataclass(frozen=True)
class Capture:
    """One archived page: its URL, when it was captured, and the HTTP answer."""

    url: str
    captured_at: datetime
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200


def replay_captures(built: BuiltSite, outlets: Iterable[str], delay: timedelta = timedelta(minutes=7)) -> list[Capture]:
    """A capture of every stored article page of `outlets`, taken `delay` after its publication."""
    wanted = set(outlets)
    captures = []
    for article in built.articles:
        if article.outlet not in wanted or not article.stored:
            continue
        resource = built.sites[article.outlet].get(decode_path(urlsplit(article.url).path))
        if resource is None or resource.status != 200:
            continue
        captures.append(Capture(article.url, article.published_at + delay, resource.body, resource.content_type))
    return captures


def write_warc(path: Path, captures: Iterable[Capture]) -> Path:
    """Write the captures as a gzipped WARC file of response records (as CC-NEWS holds them)."""
    path = Path(path)
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for capture in captures:
            reason = "OK" if capture.status == 200 else "Not Found"
            http = StatusAndHeaders(
                f"{capture.status} {reason}",
                [("Content-Type", capture.content_type), ("Content-Length", str(len(capture.body)))],
                protocol="HTTP/1.1",
            )
            record = writer.create_warc_record(
                capture.url,
                "response",
                payload=io.BytesIO(capture.body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": capture.captured_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)
    return path


class WaybackReplay:
    """A loopback Wayback Machine: the CDX API (/cdx/search/cdx, JSON output, url=HOST/*,
    from/to as YYYYMM) and original-content captures at /web/{timestamp}id_/{url}.

    Captures answer with the archive's banner-free body; any other /web/ form answers with a
    page that holds only the Wayback banner, so a backfill reading it would store no article.
    """

    def __init__(self, captures: Iterable[Capture], host: str = "127.0.0.3") -> None:
        self.captures = {(c.captured_at.strftime("%Y%m%d%H%M%S"), c.url): c for c in captures}
        self.requests: list[str] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                replay.requests.append(self.path)
                status, content_type, body = replay.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def host_port(self) -> str:
        return self.url.removeprefix("http://")

    def answer(self, target: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request target."""
        parts = urlsplit(target)
        if parts.path == "/cdx/search/cdx":
            return 200, "application/json", self._cdx(parse_qs(parts.query))
        if parts.path.startswith("/web/"):
            stamp, _, original = target.removeprefix("/web/").partition("/")
            capture = self.captures.get((stamp.removesuffix("id_"), original))
            if capture is not None and stamp.endswith("id_"):
                return capture.status, capture.content_type, capture.body
            if capture is not None:
                return 200, "text/html", b"<html><body><div id='wm-ipp'>Wayback Machine banner</div></body></html>"
        return 404, "text/plain", b"not found"

    def _cdx(self, query: dict[str, list[str]]) -> bytes:
        prefix = query.get("url", [""])[0].removesuffix("*")
        first, last = query.get("from", ["0"])[0], query.get("to", ["9"])[0]
        rows: list[list[str]] = [["timestamp", "original"]]
        for stamp, url in sorted(self.captures):
            parts = urlsplit(url)  # matched on host and path, as the CDX API's SURT keys are
            in_period = first <= stamp[: len(first)] and stamp[: len(last)] <= last
            if f"{parts.hostname}{parts.path}".startswith(prefix) and in_period:
                rows.append([stamp, url])
        return json.dumps(rows).encode()

    def __enter__(self) -> WaybackReplay:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
