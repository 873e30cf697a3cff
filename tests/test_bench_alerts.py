"""The alerts benchmark runs end to end on a few articles and reports every key (no speed asserted)."""

from __future__ import annotations

from bench.alerts import main


def test_the_alerts_benchmark_reports_rule_costs_and_the_crawl_to_delivery_time() -> None:
    result = main(["--articles", "30", "--rules", "5", "--crawl", "5"])
    assert [row["rules"] for row in result["rows"]] == [1, 5]
    assert all(row["articles"] == 30 and row["ms_per_article"] >= 0 for row in result["rows"])
    # The crawl's rule set holds a rule matching every article: each of its 5 stories is delivered
    # to the webhook receiver and the feed.
    assert result["crawl_articles"] == 5 and result["crawl_alerts"] >= 5
    assert result["crawl_deliveries"] == 2 * result["crawl_alerts"]
    assert result["crawl_to_last_delivery_s"] > 0
