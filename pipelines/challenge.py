"""Bot-challenge pages: an outlet that answers its article URLs with the same short page (a
"checking your browser" interstitial, a captcha) is refusing the crawler even with a 200.

A short page whose visible text, digits aside (challenge pages carry a request id), has been seen
on SAHEL_CHALLENGE_MIN_PAGES different article URLs of one outlet in this crawl is taken for one.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict

from lxml import html as lxml_html

_DIGITS = re.compile(r"\d+")


def page_fingerprint(html: str) -> str:
    """The page's visible text, digits and whitespace aside, hashed."""
    try:
        tree = lxml_html.fromstring(html)
        for junk in tree.xpath("//script|//style|//noscript"):
            junk.drop_tree()
        text = tree.text_content()
    except (ValueError, lxml_html.etree.ParserError):
        text = html
    folded = " ".join(_DIGITS.sub("0", text).split()).casefold()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


class ChallengePages:
    """Per outlet, the short pages seen on several article URLs."""

    def __init__(self, max_chars: int, min_pages: int) -> None:
        self.max_chars = max_chars
        self.min_pages = min_pages
        self._urls: dict[tuple[str, str], set[str]] = defaultdict(set)

    def repeats(self, outlet: str, url: str, html: str) -> int:
        """How many article URLs of `outlet` served this same short page (0: not a challenge)."""
        if len(html) > self.max_chars:
            return 0
        urls = self._urls[(outlet, page_fingerprint(html))]
        urls.add(url)
        return len(urls) if len(urls) >= self.min_pages else 0
