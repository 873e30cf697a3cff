"""Backfill throughput from local WARC files against the single-core extraction bound.

Usage: python -m bench backfill [--articles N] [--json] [--workers W] [--extract-pages K]

Generates N articles of a real page's weight (bench/sites.py, the crawl benchmark's pages), writes
them as a gzipped WARC file of response records (as CC-NEWS holds them), runs
`python -m sahel_crawler backfill --source warc` on it into a fresh SQLite file in a subprocess
(no network, no politeness: the CPU is the limit), runs it again (every month finished: nothing is
read), and reports:

  end_to_end_articles_per_s    articles per second of backfill (engine start to close)
  extraction_only_pages_per_s  a sample of the same pages through `extract_article` in one plain
                               process (a fresh one, started for it)
  ratio                        end to end / extraction only (above 1 needs more than one core)
  ratio_same_period            end to end / the single-core rate of extraction in the backfill itself
  cpu_ms_per_article           CPU of the backfill's processes per stored article
  wall_ms_per_article          wall time of the backfill per stored article
  cpu_utilisation              CPU seconds of the backfill's processes / (wall seconds x cores)
  peak_rss_mb, peak_pss_mb     peak summed memory of the backfill and its workers (see bench.crawl)
  second_run_s                 the second backfill, which finds every month finished

Compare cost per article at 10,000 and 100,000 articles by running both sizes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bench.crawl import _table, apart, measured_settings, measurement_parser, run_crawl

# The WARC records are captured this long after publication.
CAPTURE_DELAY = timedelta(minutes=5)


def write_site_warc(built: Any, path: Path) -> tuple[int, datetime, datetime]:
    """Every article page of the generated site as a WARC response record; (records, first, last capture)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    count, first, last = 0, datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC)
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for site in built.sites.values():
            for article in site.articles:
                body = site.page(article)
                captured = article.published + CAPTURE_DELAY
                http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
                record = writer.create_warc_record(
                    article.url, "response", payload=io.BytesIO(body), http_headers=http,
                    warc_headers_dict={"WARC-Date": captured.strftime("%Y-%m-%dT%H:%M:%SZ")},
                )  # fmt: skip
                writer.write_record(record)
                count, first, last = count + 1, min(first, captured), max(last, captured)
    return count, first, last


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole benchmark and return its results."""
    from bench.sites import HOSTS, GeneratedSiteBuilder, article_pages

    builder = GeneratedSiteBuilder(args.articles, heavy=True)
    # the pages' URLs only: nothing is served, the WARC file holds every page
    built = builder({outlet: f"http://{ip}:8080" for outlet, ip in HOSTS.items()}, datetime.now(UTC))
    settings = measured_settings(args.workers)
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="sahel-bench-backfill-") as tmp_name:
        tmp = Path(tmp_name)
        sources = tmp / "sources.yaml"
        sources.write_text(yaml.safe_dump({"outlets": built.outlets}, allow_unicode=True), encoding="utf-8")
        warc = tmp / "CC-NEWS-bench.warc.gz"
        started = time.perf_counter()
        records, first_capture, last_capture = write_site_warc(built, warc)
        warc_s = time.perf_counter() - started
        command = ("backfill", "--source", "warc", "--warc", str(warc), "--since", first_capture.isoformat(),
                   "--until", (last_capture + timedelta(seconds=1)).isoformat(),
                   *(arg for outlet in built.outlets for arg in ("--outlet", outlet)))  # fmt: skip
        db = tmp / "bench.db"
        first = run_crawl(sources, db, tmp / "first.json", settings, command=command)
        second = run_crawl(sources, db, tmp / "second.json", settings, command=command)
        step = max(1, records // args.extract_pages)
        sample = list(article_pages(built, step))
        bound = apart("extraction_only", sample, sources, tmp)
        warc_mb = warc.stat().st_size / 2**20

    stats = first["stats"]
    stored = stats.get("sahel/new_articles", 0)
    done = stats.get("item_scraped_count", 0) + stats.get("item_dropped_count", 0)
    backfill_s = stats.get("elapsed_time_seconds") or first["wall_s"]
    e2e = done / backfill_s if backfill_s else 0.0
    extract_ms = stats.get("sahel/time_ms/extract") or 0.0
    return {
        "articles": args.articles,
        "texts": "corpus" if builder.from_corpus else "generated",
        "warc_records": records,
        "warc_mb": round(warc_mb, 1),
        "warc_write_s": round(warc_s, 1),
        "stored": stored,
        "errors": stats.get("sahel/errors", 0),
        "workers": args.workers if args.workers is not None else cores,
        "cores": cores,
        "first_run_s": round(first["wall_s"], 2),
        "backfill_s": round(backfill_s, 2),
        "end_to_end_articles_per_s": round(e2e, 1),
        "extraction_only_pages_per_s": round(bound["pages_per_s"], 1),
        "extraction_only_pages": bound["pages"],
        "ratio": round(e2e / bound["pages_per_s"], 3),
        "ratio_same_period": round(e2e * extract_ms / max(1, done) / 1000, 3),
        "cpu_ms_per_article": round(first["tree_cpu_s"] * 1000 / max(1, stored), 2),
        "wall_ms_per_article": round(backfill_s * 1000 / max(1, stored), 2),
        "extract_ms_per_article": round(extract_ms / max(1, done), 2),
        "cpu_utilisation": round(first["tree_cpu_s"] / (first["wall_s"] * cores), 3),
        # other work on the machine meanwhile takes cores the backfill would use
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "peak_rss_mb": round(first["peak_rss_mb"], 1),
        "peak_pss_mb": round(first["peak_pss_mb"], 1),
        "second_run_s": round(second["wall_s"], 2),
        "second_run_new": second["stats"].get("sahel/new_articles", 0),
        "months_done_before": second["stats"].get("sahel/backfill_months_done_before", 0),
    }


def main(argv: list[str]) -> dict[str, Any]:
    """Run the benchmark; print a table, or one JSON object with --json."""
    args = measurement_parser("python -m bench backfill", __doc__.split("\n")[0]).parse_args(argv)
    result = measure(args)
    print(json.dumps(result) if args.json else _table(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
