"""Signals of our own, so that the spider can report failures without touching storage."""

# Sent by the spider for a page, feed or sitemap it could not use.
# Arguments: url (str), kind (str: http, download, feed, sitemap, not_html, ...), reason (str),
# outlet (str | None).
page_failed = object()
