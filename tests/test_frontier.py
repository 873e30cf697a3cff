"""The crawl frontier: pending requests wait in disk queues in a temporary folder, removed at
the end; the stored articles are the same as with Scrapy's memory queues."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sahel_crawler.replay import ReplayServer
from tests.conftest import crawl_replay


@pytest.mark.slow
def test_a_crawl_stores_the_same_articles_with_either_queue(
    replay: ReplayServer, replay_sources: Path, tmp_path: Path, short_tmp_path: Path
) -> None:
    stored = {}
    for disk in (True, False):
        temp = short_tmp_path / f"tmp-{disk}"
        temp.mkdir()
        db = tmp_path / f"disk-{disk}.db"
        settings = ["-s", f"SAHEL_DISK_QUEUE={disk}", "-s", "STATS_DUMP=True", "-s", "LOG_LEVEL=INFO"]
        result = crawl_replay(replay_sources, f"sqlite:///{db}", *settings, env={"TMPDIR": str(temp)})
        assert result.returncode == 0, result.stderr[-2000:]
        assert ("'scheduler/enqueued/disk'" in result.stderr) is disk
        assert ("'scheduler/enqueued/memory'" in result.stderr) is not disk
        assert list(temp.iterdir()) == [], "the crawl left its queue folder behind"
        with sqlite3.connect(db) as conn:
            stored[disk] = conn.execute("SELECT url, title, text FROM articles ORDER BY url").fetchall()
    expected = {e.url for e in replay.expected_articles() if e.stored}
    assert {row[0] for row in stored[True]} == expected
    assert stored[True] == stored[False]
