"""How the spider decodes an article page: the declared charset, or a guess among the legacy
encodings of the monitor's languages when nothing declares one or the declared one garbles it."""

from __future__ import annotations

from charset_normalizer import from_bytes
from scrapy.http import TextResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

# What an outlet of the monitor's languages writes in when it declares nothing: Scrapy's own
# guess (charset_normalizer among all encodings) takes short French ISO-8859-1 pages for
# Central European cp1250 ("prčs" for "près"), so the guess is made among these only.
_UNDECLARED_ENCODINGS = ["utf_8", "cp1252", "cp1256", "iso8859_6"]


def decoded_html(response: TextResponse) -> str:
    """The page as text, in the charset its HTTP header, BOM or <meta> declares (Scrapy's rule).

    When nothing declares one and the body is not UTF-8, the charset is guessed among the
    monitor's languages' legacy encodings. When the declared charset garbles the page
    (replacement characters), the <meta> charset, UTF-8 or that guess is used instead, the first
    that decodes it cleanly.
    """
    body, text = response.body, response.text
    # Scrapy decoded it as UTF-8 (declared or found valid): the common case, nothing to check.
    # Otherwise, with nothing declared, Scrapy guessed among every encoding.
    if response.encoding != "utf-8" and not _declares_encoding(response) and not _is_utf8(body):
        return _guessed(body) or text
    if "\ufffd" not in text:
        return text
    for encoding in (html_body_declared_encoding(body), "utf-8"):
        if not encoding:
            continue
        try:
            return body.decode(resolve_encoding(encoding) or encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return _guessed(body) or text


def _declares_encoding(response: TextResponse) -> bool:
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
    body = response.body
    return bool(http_content_type_encoding(content_type) or read_bom(body)[0] or html_body_declared_encoding(body))


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _guessed(body: bytes) -> str | None:
    match = from_bytes(body, cp_isolation=_UNDECLARED_ENCODINGS).best()
    return str(match) if match is not None else None
