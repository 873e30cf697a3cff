"""Daily keyword digests: build (database → dataclasses), render (Markdown, HTML, JSON), email.

period = day_period(date(2026, 11, 19), "Africa/Bamako")
digest = build_digest(session, period, labels=concept_labels(load_lexicon()))
render(digest, "html")
"""

from sahel_crawler.digest.build import Digest, build_digest, concept_labels
from sahel_crawler.digest.period import Period, day_period, range_period, yesterday
from sahel_crawler.digest.render import FORMATS, SCHEMA_PATH, digest_json, render, subject
from sahel_crawler.digest.run import DigestOutcome, DigestRequest, run_digest

__all__ = [
    "FORMATS",
    "SCHEMA_PATH",
    "Digest",
    "DigestOutcome",
    "DigestRequest",
    "Period",
    "build_digest",
    "concept_labels",
    "day_period",
    "digest_json",
    "range_period",
    "render",
    "run_digest",
    "subject",
    "yesterday",
]
