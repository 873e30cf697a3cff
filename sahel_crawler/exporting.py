"""Stored articles as export records (the JSONL/CSV/Parquet contract documented in README.md)
and as GeoJSON features of their places."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from pathlib import Path
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
    "standfirst",
    "paywalled",
    "text_source",
    "places",
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
        "standfirst": article.standfirst,
        "paywalled": bool(article.paywalled),
        "text_source": article.text_source,
        "places": [hit.place_id for hit in article.place_hits if hit.place_id is not None],
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


def place_features(article: Article) -> list[dict[str, Any]]:
    """One GeoJSON Feature (a Point) per place the article was resolved to."""
    properties = {
        "title": article.title,
        "url": article.url,
        "outlet": article.outlet_id,
        "language": article.language,
        "published_at": _iso(article.published_at),
        "concepts": [hit.concept_id for hit in article.keyword_hits],
    }
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [hit.longitude, hit.latitude]},
            "properties": {"place": hit.place_id, "place_kind": hit.place_kind, "form": hit.form, **properties},
        }
        for hit in article.place_hits
        if hit.place_id is not None and hit.latitude is not None and hit.longitude is not None
    ]


def write_geojson(articles: Iterable[Article], out: IO[str]) -> int:
    """Write a GeoJSON FeatureCollection of (article, place) Points, one feature a line (bounded
    memory); return how many features."""
    out.write('{"type": "FeatureCollection", "features": [\n')
    count = 0
    for article in articles:
        for feature in place_features(article):
            out.write((",\n" if count else "") + json.dumps(feature, ensure_ascii=False))
            count += 1
    out.write("\n]}\n")
    return count


PARQUET_BATCH_ROWS = 5_000


def parquet_schema() -> Any:
    """The Parquet columns of the export contract: times as UTC timestamps, lists as lists."""
    import pyarrow as pa  # optional: only `--format parquet` needs it

    utc = pa.timestamp("us", tz="UTC")
    words = pa.list_(pa.string())
    types = {
        "published_at": utc, "fetched_at": utc, "keywords": words, "aliases": words,
        "paywalled": pa.bool_(), "places": words,
    }  # fmt: skip
    return pa.schema([pa.field(name, types.get(name, pa.string())) for name in EXPORT_FIELDS])


def write_parquet(records: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write records to a Parquet file, a row group per batch (bounded memory); return how many.

    Raises ValueError when pyarrow is not installed.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("--format parquet needs pyarrow: pip install pyarrow") from None
    schema = parquet_schema()
    rows = iter(records)
    count = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        while batch := list(islice(rows, PARQUET_BATCH_ROWS)):
            columns = {name: [_parquet_value(name, r.get(name)) for r in batch] for name in EXPORT_FIELDS}
            writer.write_table(pa.table(columns, schema=schema))
            count += len(batch)
    return count


def _parquet_value(name: str, value: Any) -> Any:
    if name in ("published_at", "fetched_at") and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value
