"""Posting an alert to a webhook (JSON; Slack- and Mattermost-compatible `text`).

A webhook is not a crawled URL: internal hosts are allowed. Its path and query may hold a
secret, so messages name its host only.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit


class DeliveryError(RuntimeError):
    """A delivery that failed; the message is safe to log and store (no secrets)."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is answered as the HTTP error it is


_OPENER = urllib.request.build_opener(_NoRedirects())


def post_webhook(url: str, body: dict[str, Any], timeout: float) -> None:
    """POST `body` as JSON; DeliveryError naming the host and status or reason otherwise."""
    host = urlsplit(url).hostname
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "SahelNewsMonitor alerts"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook {host}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        text = getattr(reason, "strerror", None) or type(reason).__name__
        raise DeliveryError(f"webhook {host}: unreachable ({text})") from None
