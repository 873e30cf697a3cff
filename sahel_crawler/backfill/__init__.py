"""Archive backfill: the `backfill` spider's start requests (archive sitemaps, the Wayback
Machine, WARC files), the WARC replay middleware and the ledger of finished months.

A backfill is a crawl with other start requests: every item goes through the same pipeline.
"""
