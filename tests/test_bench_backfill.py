"""The backfill benchmark runs end to end on a tiny WARC file and reports every key (no speed asserted)."""

from __future__ import annotations

import pytest

from tests.conftest import run_bench

KEYS = {
    "articles", "warc_records", "stored", "errors", "end_to_end_articles_per_s", "extraction_only_pages_per_s",
    "ratio", "ratio_same_period", "cpu_ms_per_article", "wall_ms_per_article", "peak_rss_mb", "peak_pss_mb",
    "second_run_s", "second_run_new", "months_done_before",
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_backfill_benchmark_stores_every_record_and_its_second_run_reads_no_month() -> None:
    result = run_bench("backfill", "--articles", "20", "--extract-pages", "20", timeout=290)
    assert set(result) >= KEYS
    assert result["warc_records"] == result["stored"] == 20, "every record of the WARC file is stored"
    assert result["errors"] == 0
    assert result["ratio"] == pytest.approx(
        result["end_to_end_articles_per_s"] / result["extraction_only_pages_per_s"], rel=0.02
    )
    assert result["second_run_new"] == 0 and result["months_done_before"] >= 2, "both outlets' month finished"
    assert 0 < result["peak_pss_mb"] <= result["peak_rss_mb"]
