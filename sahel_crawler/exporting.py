"""Stored articles as export records (the JSONL/CSV contract documented in README.md)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

from storage.models import Article

# The export contract: these keys, in this order. Add keys at the end; never rename.
EXPORT_FIELDS = (
    "url",
    "outlet",
    "title",
    "author",
    "published_at",
    "fetched_at",
    "language",
    "text",
    "keywords",
    "duplicate_of",
    "aliases",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def article_record(article: Article) -> dict[str, Any]:
    """One article as an export record (dates ISO 8601 in UTC with offset)."""
    return {
        "url": article.url,
        "outlet": article.outlet_id,
        "title": article.title,
        "author": article.author,
        "published_at": _iso(article.published_at),
        "fetched_at": _iso(article.fetched_at),
        "language": article.language,
        "text": article.text,
        "keywords": [hit.concept_id for hit in article.keyword_hits],
        "duplicate_of": article.duplicate_of.url if article.duplicate_of is not None else None,
        "aliases": [alias.url for alias in article.aliases],
    }


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """Write one JSON object per line; return how many."""
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """Write a CSV with a header; list fields are joined with '|'. Return how many rows."""
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for record in records:
        row = {k: "|".join(v) if isinstance(v, list) else v for k, v in record.items()}
        writer.writerow(row)
        count += 1
    return count


WRITERS = {"jsonl": write_jsonl, "csv": write_csv}
