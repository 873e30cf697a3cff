"""WARC files (Common Crawl's CC-NEWS and any other): the HTTP responses they hold, read with warcio."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_BLOCK = 1 << 16
_RECORD_TYPES = frozenset(
    {"warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation"}
)
_ENCODING_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class WarcError(Exception):
    """A WARC file or record that cannot be read; the message names the file and offset."""


@dataclass(frozen=True)
class WarcEntry:
    """One HTML response record: where it lies in its file, the URL it was served from, and when."""

    path: str
    offset: int
    url: str
    captured_at: datetime


@dataclass(frozen=True)
class WarcResponse:
    """The HTTP response of one record, as the server sent it."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _captured_at(value: str | None) -> datetime:
    if not value:
        raise ValueError("no WARC-Date")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def html_entries(path: str) -> Iterator[WarcEntry]:
    """Every 200 HTML response record of the WARC file at `path`, in file order.

    Raises WarcError (file and offset) when the file cannot be read; the entries read until then
    have been yielded.
    """
    try:
        with open(path, "rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                if record.rec_type not in _RECORD_TYPES:  # warcio reads any text as headers
                    raise WarcError(f"{path}: not a readable WARC file (no WARC record at offset {records.offset})")
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                offset = records.get_record_offset()
                while record.raw_stream.read(_BLOCK):  # to its end, so that a record cut short is seen
                    pass
                if getattr(record.raw_stream, "limit", 0):
                    raise WarcError(f"{path}: incomplete record at offset {offset} (the file ends inside it)")
                content_type = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
                if record.http_headers.get_statuscode() != "200" or content_type not in _HTML_TYPES:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                yield WarcEntry(path, offset, url, _captured_at(record.rec_headers.get_header("WARC-Date")))
            # warcio stops quietly at a record cut short (a download that did not finish)
            size = os.fstat(stream.fileno()).st_size
            if records.offset != size:
                raise WarcError(f"{path}: incomplete record at offset {records.offset} (the file has {size} bytes)")
    except ArchiveLoadFailed as exc:
        raise WarcError(f"{path}: not a readable WARC file ({exc})") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise WarcError(f"{path}: {exc}") from exc


def read_response(path: str, offset: int) -> WarcResponse:
    """The HTTP response of the record at `offset` of the WARC file at `path` (WarcError if none)."""
    try:
        with open(path, "rb") as stream:
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream)), None)
            if record is None or record.http_headers is None:
                raise WarcError(f"{path}: no response record at offset {offset}")
            body = record.content_stream().read()
            # the body is read decoded (chunks joined, compression undone): headers saying otherwise would mislead
            headers = [
                (name, value) for name, value in record.http_headers.headers if name.lower() not in _ENCODING_HEADERS
            ]
            status = int(record.http_headers.get_statuscode() or 0)
            url = record.rec_headers.get_header("WARC-Target-URI") or ""
    except (ArchiveLoadFailed, OSError, ValueError, EOFError) as exc:
        raise WarcError(f"{path} at offset {offset}: {exc}") from exc
    return WarcResponse(url, status, headers, body)
