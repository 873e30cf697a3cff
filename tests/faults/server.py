"""The fault server: a threaded loopback HTTP/1.1 server whose routes write raw responses, so a
route can stall, drip, reset the connection or break the framing on purpose.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit


class Exchange(BaseHTTPRequestHandler):
    """One request being answered; routes write through its helpers or straight to `wfile`."""

    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "fault"
    sys_version = ""
    timeout = 30

    @property
    def stopping(self) -> threading.Event:
        """Set when the server stops: stalling routes return at once."""
        return self.server.stopping

    def send_head(self, status: int, headers: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> None:
        """Status line and headers; no Content-Length is added."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def send_whole(
        self, status: int, body: bytes, content_type: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        """A complete response with a Content-Length (the connection may be kept alive)."""
        self.send_head(status, [("Content-Type", content_type), *headers, ("Content-Length", str(len(body)))])
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.record(path, dict(self.headers.items()))
        route = self.server.routes.get(path) or self.server.prefix_route(path)
        try:
            if route is None:
                self.send_whole(404, b"<html><body>not found</body></html>", "text/html; charset=utf-8")
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the crawler gave up on this response: expected

    def log_message(self, format: str, *args: object) -> None:
        pass


Route = Callable[[Exchange], None]


@dataclass(frozen=True)
class Hit:
    """One request the server received."""

    path: str
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, Exchange)
        self.routes: dict[str, Route] = {}
        self.prefixes: dict[str, Route] = {}  # path prefix -> route, for generated paths
        self.hits: list[Hit] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def record(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.hits.append(Hit(path, headers))

    def prefix_route(self, path: str) -> Route | None:
        """The route of the longest prefix of `path` served with `FaultServer.add_prefix`."""
        matching = [prefix for prefix in self.prefixes if path.startswith(prefix)]
        return self.prefixes[max(matching, key=len)] if matching else None

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        pass  # clients hanging up mid-response are the point of this server


class FaultServer:
    """Serves `routes` (path -> Route) on `host`, port chosen by the kernel, in a daemon thread.

    with FaultServer("127.0.0.1") as server:
        server.add("/x", some_route)
        server.url("/x")
    """

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self._server = _Server((host, 0))
        if tls is not None:  # https: the handshake is made as each connection is accepted
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self._thread: threading.Thread | None = None

    def add(self, path: str, route: Route) -> str:
        """Serve `route` at `path`; returns its absolute URL."""
        if path in self._server.routes:
            raise ValueError(f"path served twice: {path}")
        self._server.routes[path] = route
        return self.url(path)

    def add_prefix(self, prefix: str, route: Route) -> str:
        """Serve `route` at every path starting with `prefix` (no exact path matches it); returns
        the prefix's absolute URL."""
        self._server.prefixes[prefix] = route
        return self.url(prefix)

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        host, port = self._server.server_address[:2]
        return f"{self.scheme}://{host}:{port}{path}"

    @property
    def base_url(self) -> str:
        """e.g. "http://127.0.0.1:41234"."""
        return self.url("")

    @property
    def hits(self) -> list[Hit]:
        """Every request received so far, in order."""
        with self._server._lock:
            return list(self._server.hits)

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        return [hit.path for hit in self.hits]

    def start(self) -> FaultServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="fault-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake stalled routes, stop serving and close the socket."""
        self._server.stopping.set()
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
