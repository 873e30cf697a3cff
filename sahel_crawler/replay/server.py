"""A loopback HTTP server for the replay: one listening socket per outlet host, daemon threads, no logs."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

import yaml

from sahel_crawler.replay.bundled import DEFAULT_HOSTS, build_bundled_site
from sahel_crawler.replay.manifest import ExpectedArticle
from sahel_crawler.replay.site import BuiltSite, Resource, Site, SiteBuilder

_NOT_FOUND = Resource(
    b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>",
    "text/html; charset=utf-8",
    status=404,
)


@dataclass(frozen=True)
class RequestRecord:
    """One request the replay answered. `path` is the request target as sent (query included)."""

    outlet: str
    method: str
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)


def decode_path(target: str) -> str:
    """The site lookup key of a request target: path only, percent-escapes and raw UTF-8 decoded."""
    # Origin-form targets are split by hand: urlsplit would read "//x" as a host name.
    path = target if target.startswith("/") else (urlsplit(target).path or "/")
    path = path.split("?", 1)[0].split("#", 1)[0]
    # http.server decodes the request line as latin-1; undo that so raw UTF-8 paths work too.
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        path = path.encode("latin-1").decode("utf-8")
    return unquote(path, errors="replace")


class _OutletServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], outlet: str, replay: ReplayServer) -> None:
        super().__init__(address, _Handler)
        self.outlet = outlet
        self.replay = replay
        self.site: Site | None = None

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        # Clients that hang up mid-response are normal in crawls; stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _OutletServer
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 30

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _serve(self, *, send_body: bool) -> None:
        site = self.server.site
        resource = (site.get(decode_path(self.path)) if site is not None else None) or _NOT_FOUND
        if resource.not_modified(self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")):
            status, body = 304, b""
            headers = [(k, v) for k, v in resource.header_items() if k in {"ETag", "Last-Modified"}]
        else:
            status, body, headers = resource.status, resource.body, resource.header_items()
        # Recorded before answering, so a client that has its response always finds the record.
        self.server.replay._record(
            RequestRecord(self.server.outlet, self.command, self.path, status, dict(self.headers.items()))
        )
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and status != 304:
            self.wfile.write(body)


class ReplayServer:
    """Serves the bundled outlets on loopback; one listening socket per outlet host.

    `hosts` maps outlet id -> IP to bind (default france24 on 127.0.0.1, meo on 127.0.0.2); `now` is
    the aware time the site's publication dates are relative to (default: the time of `start()`);
    `port` 0 picks free ports. `site_builder` replaces the bundled site (e.g. a generated one); it is
    called with the base URL of every outlet and `now` once the sockets are bound.
    """

    def __init__(
        self,
        hosts: dict[str, str] | None = None,
        *,
        now: datetime | None = None,
        port: int = 0,
        site_builder: SiteBuilder | None = None,
    ) -> None:
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self.hosts = dict(hosts or DEFAULT_HOSTS)
        self.now = now
        self.port = port
        self.site_builder = site_builder or build_bundled_site
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._servers: dict[str, _OutletServer] = {}
        self._threads: list[threading.Thread] = []
        self._built: BuiltSite | None = None

    def start(self) -> ReplayServer:
        """Bind every outlet's socket, build the site for the bound addresses, serve in daemon threads."""
        if self._servers:
            raise RuntimeError("the replay server is already running")
        try:
            for outlet, ip in self.hosts.items():
                self._servers[outlet] = _OutletServer((ip, self.port), outlet, self)
        except OSError as exc:
            self._close()
            raise OSError(f"cannot bind the replay on {self.hosts}: {exc}") from exc
        now = self.now or datetime.now(UTC)
        try:
            self._built = self.site_builder({outlet: self.base_url(outlet) for outlet in self._servers}, now)
        except Exception:
            self._close()
            raise
        for outlet, server in self._servers.items():
            server.site = self._built.sites[outlet]
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"replay-{outlet}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        for server in self._servers.values():
            server.shutdown()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self._close()

    def _close(self) -> None:
        for server in self._servers.values():
            server.server_close()
        self._servers.clear()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def base_url(self, outlet: str) -> str:
        """The outlet's base URL, e.g. "http://127.0.0.1:41234"."""
        host, port = self._servers[outlet].server_address[:2]
        return f"http://{host}:{port}"

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def reset_requests(self) -> None:
        """Forget the requests served so far (the list object stays the same)."""
        with self._lock:
            self.requests.clear()

    @property
    def built(self) -> BuiltSite:
        """The site being served (after `start()`)."""
        if self._built is None:
            raise RuntimeError("the replay server is not started")
        return self._built

    def sources_yaml(self) -> str:
        """A sources registry (YAML) whose outlets point at this server."""
        return yaml.safe_dump({"outlets": self.built.outlets}, allow_unicode=True, sort_keys=False, width=200)

    def write_sources(self, path: Path) -> Path:
        """Write `sources_yaml()` to `path` and return it."""
        path = Path(path)
        path.write_text(self.sources_yaml(), encoding="utf-8")
        return path

    def expected_articles(self) -> list[ExpectedArticle]:
        """The manifest: every article page with what a correct crawl stores for it."""
        return list(self.built.articles)
