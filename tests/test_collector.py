"""The crawler's garbage-collector tuning: on for the crawl, Python's own settings after it."""

from __future__ import annotations

import gc

import pytest
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from sahel_crawler.collector import CollectorTuning


def test_a_crawl_collects_young_garbage_less_often_and_gives_python_its_settings_back() -> None:
    crawler = get_crawler(settings_dict={"SAHEL_GC_YOUNG_THRESHOLD": 5000, "MEMUSAGE_ENABLED": False})
    extension = CollectorTuning.from_crawler(crawler)  # signals hold their receivers weakly
    before = gc.get_threshold()
    try:
        crawler.signals.send_catch_log(signals.engine_started)
        assert gc.get_threshold() == (5000, *before[1:])
        assert gc.get_freeze_count() > 1000  # the start-up heap is out of every collection
    finally:
        crawler.signals.send_catch_log(signals.engine_stopped)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    del extension


def test_zero_keeps_pythons_collector_settings() -> None:
    with pytest.raises(NotConfigured):
        CollectorTuning.from_crawler(get_crawler(settings_dict={"SAHEL_GC_YOUNG_THRESHOLD": 0}))
