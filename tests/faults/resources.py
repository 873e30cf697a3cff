"""Route factories: good responses and every fault the crawler must survive."""

from __future__ import annotations

import itertools
import socket
import struct
import threading
import zlib
from functools import cache

import brotli

from tests.faults.server import Exchange, Route

HTML = "text/html; charset=utf-8"


def static(
    body: bytes, content_type: str = HTML, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> Route:
    """A plain, complete response."""

    def route(ex: Exchange) -> None:
        ex.send_whole(status, body, content_type, headers)

    return route


def redirect(location: str, status: int = 302) -> Route:
    """A redirect to `location`."""
    return static(b"", HTML, status, (("Location", location),))


def slow_first_byte(seconds: float = 120) -> Route:
    """Accept the request, then say nothing for `seconds` (or until the server stops)."""

    def route(ex: Exchange) -> None:
        ex.stopping.wait(seconds)
        ex.close_connection = True

    return route


def drip(body: bytes, interval: float = 1.0) -> Route:
    """Headers at once, then the body one byte per `interval` seconds."""

    def route(ex: Exchange) -> None:
        ex.send_head(200, [("Content-Type", HTML), ("Content-Length", str(len(body)))])
        for i in range(len(body)):
            ex.wfile.write(body[i : i + 1])
            ex.wfile.flush()
            if ex.stopping.wait(interval):
                break
        ex.close_connection = True

    return route


def reset_mid_body(body: bytes) -> Route:
    """Promise the whole body, send half of it, then reset the connection (TCP RST)."""

    def route(ex: Exchange) -> None:
        ex.send_head(200, [("Content-Type", HTML), ("Content-Length", str(len(body)))])
        ex.wfile.write(body[: len(body) // 2])
        ex.wfile.flush()
        # SO_LINGER with a zero timeout turns close() into a reset.
        ex.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        ex.connection.close()
        ex.close_connection = True

    return route


def broken_chunked(body: bytes) -> Route:
    """Chunked transfer encoding with a good first chunk, then a chunk size that is not hex."""

    def route(ex: Exchange) -> None:
        ex.send_head(200, [("Content-Type", HTML), ("Transfer-Encoding", "chunked")])
        half = body[: len(body) // 2]
        ex.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))
        ex.wfile.write(b"zz-not-a-size\r\nrest\r\n0\r\n\r\n")
        ex.wfile.flush()
        ex.close_connection = True

    return route


@cache
def bomb(encoding: str, size: int) -> bytes:
    """`size` bytes of zeros compressed with `encoding` (gzip, deflate or br): tiny on the wire."""
    chunk = b"\0" * (1 << 20)
    if encoding == "br":
        compressor = brotli.Compressor(quality=5)
        parts = [compressor.process(chunk) for _ in range(size >> 20)]
        return b"".join([*parts, compressor.finish()])
    wbits = 31 if encoding == "gzip" else 15  # gzip container, or zlib ("deflate" as servers send it)
    zc = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return b"".join([*(zc.compress(chunk) for _ in range(size >> 20)), zc.flush()])


def compressed_bomb(encoding: str, size: int) -> Route:
    """An HTML page whose body expands to `size` bytes once decoded."""
    return static(bomb(encoding, size), HTML, headers=(("Content-Encoding", encoding),))


def oversize_declared(size: int) -> Route:
    """A Content-Length of `size` bytes; the body is sent only as long as the client reads."""

    def route(ex: Exchange) -> None:
        ex.send_head(200, [("Content-Type", HTML), ("Content-Length", str(size))])
        _stream_zeros(ex, size)

    return route


def oversize_streamed(size: int) -> Route:
    """A body of `size` bytes in chunks, with no length announced up front."""

    def route(ex: Exchange) -> None:
        ex.send_head(200, [("Content-Type", HTML), ("Transfer-Encoding", "chunked")])
        chunk = b"<p>" + b"x" * 65_530 + b"</p>"
        for _ in range(size // len(chunk)):
            if ex.stopping.is_set():
                break
            ex.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        ex.wfile.write(b"0\r\n\r\n")
        ex.close_connection = True

    return route


def endless_headers(value_bytes: int) -> Route:
    """A status line, then header lines with `value_bytes`-byte values without end (until the
    client hangs up or the server stops)."""

    def route(ex: Exchange) -> None:
        ex.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
        filler = b"x" * value_bytes
        for n in itertools.count():
            if ex.stopping.is_set():
                break
            ex.wfile.write(b"X-Filler-%d: %s\r\n" % (n, filler))
        ex.close_connection = True

    return route


def _stream_zeros(ex: Exchange, size: int) -> None:
    chunk = b" " * 65_536
    for _ in range(size // len(chunk)):
        if ex.stopping.is_set():
            break
        ex.wfile.write(chunk)
    ex.close_connection = True


def flaky(failures: list[tuple[int, tuple[tuple[str, str], ...]]], then: Route) -> Route:
    """Answer the first requests with the given (status, headers), every later one with `then`."""
    counter = itertools.count()
    lock = threading.Lock()

    def route(ex: Exchange) -> None:
        with lock:
            n = next(counter)
        if n < len(failures):
            status, headers = failures[n]
            ex.send_whole(status, b"<html><body>try again later</body></html>", HTML, headers)
        else:
            then(ex)

    return route
