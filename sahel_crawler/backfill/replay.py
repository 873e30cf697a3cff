"""Answer the requests of a WARC backfill from the WARC records, with no network.

A downloader middleware, not a spider that builds responses itself: a response it returns goes
back through the process_response of every downloader middleware and then to the spider's
callback, exactly as a downloaded page does, so every later stage sees what a crawl sees. It runs
first (priority 40), so no internal-address check, robots.txt or download is made for an archived
page; requests without meta "warc" pass through untouched.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from sahel_crawler.backfill.warc import WarcError, read_response


class WarcRecordError(Exception):
    """A WARC record named by a request could not be read again."""


class WarcReplayMiddleware:
    """Serve a request with meta["warc"] = (path, offset) from that WARC record."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcReplayMiddleware:
        return cls()

    def process_request(self, request: Request, spider: Any = None) -> Response | None:
        """The record's HTTP response, as Scrapy would have built it from the server's answer."""
        where = request.meta.get("warc")
        if where is None:
            return None
        path, offset = where
        try:
            record = read_response(path, offset)
        except WarcError as exc:
            raise WarcRecordError(str(exc)) from exc
        headers = Headers(record.headers)
        cls = responsetypes.from_args(headers=headers, url=record.url, body=record.body)
        return cls(url=record.url, status=record.status, headers=headers, body=record.body, request=request)
