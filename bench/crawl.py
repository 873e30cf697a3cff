"""Crawl throughput end to end against the single-core extraction bound, on a generated replay site.

Usage: python -m bench crawl [--articles N] [--json] [--workers W] [--newsplease-pages K] [--profile FILE]
                             [--light]

Serves N real-shaped articles on loopback (bench/sites.py: pages of a real page's weight, or with
--light the replay template alone, about a sixth of it), crawls them into a fresh SQLite file
with `python -m sahel_crawler crawl` in a subprocess, crawls again (incremental), and reports:

  end_to_end_pages_per_s       article pages per second of crawl (engine start to close)
  page_kb                      mean size of an article page (KB, as served)
  extraction_only_pages_per_s  the same pages through `extract_article` in one plain process
                               (a fresh one, started for it)
  ratio                        end to end / extraction only (above 1 needs more than one core)
  ratio_same_period            end to end / the single-core rate of extraction in the crawl itself
  stage_ms_per_page            CPU ms per page: extract, language and keywords (flagging and the
                               folded search text; in the workers), dedup (text fingerprints in
                               the workers, the index on the reactor), canonical (on the reactor),
                               store (reactor and its database thread), and fetch: the rest of
                               the crawler process
                               (Scrapy engine, downloads, spider, dispatch, start-up)
  overhead                     CPU of the crawl's processes minus extraction, over extraction
  cpu_utilisation              CPU seconds of the crawl's processes / (wall seconds x cores)
  peak_rss_mb                  peak of the summed RSS of the crawler and its workers (polled /proc);
                               shared library pages count once per process
  peak_pss_mb                  the same with PSS, shared pages divided among the processes: the
                               memory the crawl really holds

The replay server runs in this process; its CPU is reported apart (`replay_cpu_s`). Numbers on a
shared machine are noisy: rerun, and compare runs made on an idle machine. news-please runs on a
sample of the same pages when bench/.venv-newsplease exists (see `newsplease_setup`).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NEWSPLEASE_VENV = REPO / "bench" / ".venv-newsplease"
STAGES = ("fetch", "extract", "language", "canonical", "dedup", "keywords", "store")
# Pipelines timed on the reactor thread, by the stage name they report under.
TIMED = {
    "canonical": "pipelines.canonical.CanonicalUrlPipeline",
    "dedup": "pipelines.dedup.DedupPipeline",
    "store": "pipelines.store.StoragePipeline",
}
_CLK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def newsplease_setup() -> str:
    """How to create the news-please environment the side-by-side run uses."""
    # newspaper4k, news-please's main extractor, fails on every Arabic page without nltk
    return f"python3.11 -m venv {NEWSPLEASE_VENV} && {NEWSPLEASE_VENV}/bin/pip install news-please nltk"


# -- in the crawler process: stage timers and the stats file -----------------------------------


def _timed_class(stage: str) -> type:
    """A subclass of the stage's pipeline that adds its reactor-thread CPU time to `bench/time_ms/STAGE`."""
    from scrapy.utils.misc import load_object

    base = load_object(TIMED[stage])

    def from_crawler(cls: type, crawler: Any) -> Any:
        stage_obj = base.from_crawler.__func__(cls, crawler)
        stage_obj._bench_stats = crawler.stats
        return stage_obj

    def process_item(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return base.process_item(self, item, *args, **kwargs)
        finally:
            self._bench_stats.inc_value(f"bench/time_ms/{stage}", (time.thread_time() - start) * 1000)

    return type(f"Timed_{stage}", (base,), {"from_crawler": classmethod(from_crawler), "process_item": process_item})


def __getattr__(name: str) -> Any:
    # Scrapy loads `bench.crawl.Timed_<stage>` by path: build the timed stage on demand.
    if name.startswith("Timed_") and name[6:] in TIMED:
        cls = _timed_class(name[6:])
        globals()[name] = cls
        return cls
    raise AttributeError(name)


class StatsFile:
    """Write the crawl's stats and the crawler process's CPU time to BENCH_STATS_FILE when it closes.

    Settings: BENCH_STATS_FILE.
    """

    def __init__(self, path: str, stats: Any) -> None:
        self.path = path
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> StatsFile:
        """Build the extension; connect it to spider_closed (after the pipelines have closed)."""
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        path = crawler.settings.get("BENCH_STATS_FILE")
        if not path:
            raise NotConfigured("BENCH_STATS_FILE is not set")
        ext = cls(path, crawler.stats)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Any, reason: str) -> None:
        times = os.times()
        data = {k: v for k, v in self.stats.get_stats().items() if isinstance(v, int | float | str)}
        data["bench/crawler_cpu_s"] = times.user + times.system
        Path(self.path).write_text(json.dumps(data))


# -- in the benchmark process ---------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (Linux: read from /proc), `pid` first."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
                todo.extend(int(c) for c in children)
        except OSError:
            continue
    return found


def _pss_bytes(pid: int) -> int:
    # Proportional set size: pages shared between processes (libraries, forked memory) are
    # divided among them, so the sum over processes is the memory the crawl really holds.
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


class TreeMonitor(threading.Thread):
    """Polls /proc for a process and its descendants: peak summed RSS and CPU seconds per process."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.cpu: dict[int, float] = {}
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_processes = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def sample(self) -> None:
        rss, pss, pids = 0, 0, process_tree(self.pid)
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                statm = Path(f"/proc/{pid}/statm").read_text().split()
                pss += _pss_bytes(pid)
            except OSError:
                continue
            self.cpu[pid] = (int(fields[11]) + int(fields[12])) / _CLK
            rss += int(statm[1]) * _PAGE
        if rss > self.peak_rss:
            self.peak_rss, self.peak_processes = rss, len(pids)
        self.peak_pss = max(self.peak_pss, pss)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)


def run_crawl(
    sources: Path,
    db: Path,
    stats_file: Path,
    settings: dict[str, Any],
    profile: Path | None = None,
    command: tuple[str, ...] = ("crawl",),
) -> dict[str, Any]:
    """One `python -m sahel_crawler crawl` of the replay (or another `command`, such as a
    backfill with its options); its wall time, stats, CPU and memory.

    With `profile`, the crawler process runs under cProfile counting the CPU time of its main
    thread (the reactor) and writes its statistics there.
    """
    from sahel_crawler.demo import REPLAY_OVERRIDES, settings_args

    overrides = {**REPLAY_OVERRIDES, **settings, "BENCH_STATS_FILE": str(stats_file), "LOG_LEVEL": "WARNING",
                 "SAHEL_PROGRESS_INTERVAL": 0}  # fmt: skip
    runner = ["-m", "bench._profiled", str(profile)] if profile else ["-m"]
    args = [sys.executable, *runner, "sahel_crawler", *command, "--sources", str(sources)]
    args += ["--db", f"sqlite:///{db}", *settings_args(overrides)]
    before = os.times()
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    monitor = TreeMonitor(proc.pid)
    monitor.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    monitor.stop()
    after = os.times()
    if proc.returncode != 0:
        raise RuntimeError(f"crawl failed ({proc.returncode}): {err[-2000:]}")
    stats = json.loads(stats_file.read_text())
    return {
        "wall_s": wall,
        "stats": stats,
        "tree_cpu_s": sum(monitor.cpu.values()),
        "processes": monitor.peak_processes,
        "peak_rss_mb": monitor.peak_rss / 2**20,
        "peak_pss_mb": monitor.peak_pss / 2**20,
        # this process's CPU meanwhile: the replay server answering the crawler
        "replay_cpu_s": (after.user + after.system) - (before.user + before.system),
        "stdout": out,
    }


def _timed_pipelines() -> dict[str, int]:
    from sahel_crawler import settings as project

    by_path = {path: stage for stage, path in TIMED.items()}
    return {
        (f"bench.crawl.Timed_{by_path[path]}" if path in by_path else path): order
        for path, order in project.ITEM_PIPELINES.items()
    }


def measured_settings(workers: int | None) -> dict[str, Any]:
    """Crawl settings that time the stages and write the stats file; `workers`: SAHEL_EXTRACT_WORKERS."""
    from sahel_crawler import settings as project

    settings: dict[str, Any] = {
        "ITEM_PIPELINES": _timed_pipelines(),
        "EXTENSIONS": {**project.EXTENSIONS, "bench.crawl.StatsFile": 990},
    }
    if workers is not None:
        settings["SAHEL_EXTRACT_WORKERS"] = workers
    return settings


def apart(measure_name: str, pages: list[tuple[str, str, str]], sources: Path, tmp: Path) -> dict[str, float]:
    """`extraction_only` or `trafilatura_baseline` on `pages` in a fresh Python process: in this
    one, the replay site's hundred thousand objects slow every garbage collection down, and
    extraction with it (about 9% at 10,000 articles)."""
    pages_file = tmp / "measured-pages.pickle"
    pages_file.write_bytes(pickle.dumps((pages, str(sources))))
    code = "import sys; from bench.crawl import _measure_child; _measure_child(sys.argv[1], sys.argv[2])"
    proc = subprocess.run(
        [sys.executable, "-c", code, measure_name, str(pages_file)],
        cwd=REPO, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"{measure_name} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def _measure_child(measure_name: str, pages_file: str) -> None:
    pages, sources = pickle.loads(Path(pages_file).read_bytes())
    if measure_name == "extraction_only":
        print(json.dumps(extraction_only(pages, Path(sources))))
    else:
        print(json.dumps(trafilatura_baseline(pages)))


def extraction_only(pages: list[tuple[str, str, str]], sources: Path) -> dict[str, float]:
    """The pages through `extract_article` with the crawl's settings, in this one process."""
    from sahel_crawler import settings as project
    from sahel_crawler.extraction import extract_article
    from sahel_crawler.sources import load_registry

    rules = {o.id: o.extraction for o in load_registry(str(sources)).outlets.values()}
    extract_article(pages[0][2], pages[0][1], rules=rules.get(pages[0][0]))  # warm-up, not counted
    cpu, started = time.process_time(), time.perf_counter()
    for outlet, url, html in pages:
        extract_article(html, url, rules=rules.get(outlet), max_chars=project.SAHEL_EXTRACT_MAX_CHARS)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"pages": len(pages), "pages_per_s": len(pages) / wall, "ms_per_page": cpu * 1000 / len(pages)}


_NEWSPLEASE_SCRIPT = """
import json, sys, time
from newsplease import NewsPlease
urls = json.load(open(sys.argv[1]))
started = time.perf_counter()
found = NewsPlease.from_urls(urls, request_args={"timeout": 30}, fetch_images=False)
took = time.perf_counter() - started
empty = [url for url, a in found.items() if not getattr(a, "maintext", None)]
ok = len(found) - len(empty)
failure = None
if empty:  # from_urls returns {} for a page it failed on: ask again for the reason
    try:
        article = NewsPlease.from_url(empty[0], request_args={"timeout": 30}, fetch_images=False)
        failure = "no text extracted" if article else "empty result"
    except Exception as exc:
        failure = f"{type(exc).__name__}: {exc}"[:300]
print(json.dumps({"seconds": took, "pages": len(urls), "with_text": ok, "failure": failure}))
"""


def newsplease(urls: list[str], tmp: Path) -> dict[str, Any]:
    """news-please (fetch + its no-images extractors) on the same article URLs, in its own venv."""
    python = NEWSPLEASE_VENV / "bin" / "python"
    if not python.exists():
        return {"available": False, "note": f"not installed; create it with: {newsplease_setup()}"}
    url_file = tmp / "newsplease-urls.json"
    url_file.write_text(json.dumps(urls))
    proc = subprocess.run(
        [str(python), "-c", _NEWSPLEASE_SCRIPT, str(url_file)],
        capture_output=True,
        text=True,
        timeout=3600,
        env={**os.environ, "no_proxy": "*"},
    )
    if proc.returncode != 0:
        return {"available": False, "note": f"news-please failed: {proc.stderr.strip()[-500:]}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    side = {
        "available": True,
        "pages": result["pages"],
        "with_text": result["with_text"],
        "pages_per_s": result["pages"] / result["seconds"],
        "api": "NewsPlease.from_urls(fetch_images=False): its downloader + no-images extractors",
    }
    if result["failure"]:
        side["note"] = f"{result['pages'] - result['with_text']} pages without text; first: {result['failure']}"
    return side


def trafilatura_baseline(pages: list[tuple[str, str, str]]) -> dict[str, float]:
    """Fallback side-by-side baseline: trafilatura's own bare extraction on the same pages."""
    import trafilatura

    started = time.perf_counter()
    for _, url, html in pages:
        trafilatura.bare_extraction(html, url=url, with_metadata=True)
    return {"pages": len(pages), "pages_per_s": len(pages) / (time.perf_counter() - started)}


def _per_page(total_ms: float | None, pages: int) -> float | None:
    return None if total_ms is None else round(total_ms / pages, 3)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole benchmark and return its results."""
    from bench.sites import HOSTS, GeneratedSiteBuilder, article_pages
    from sahel_crawler.replay import ReplayServer

    builder = GeneratedSiteBuilder(args.articles, heavy=not args.light)
    settings = measured_settings(args.workers)
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="sahel-bench-") as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "bench.db"
        with ReplayServer(hosts=HOSTS, site_builder=builder, now=datetime.now(UTC)) as replay:
            sources = replay.write_sources(tmp / "sources.yaml")
            first = run_crawl(sources, db, tmp / "first.json", settings, profile=args.profile)
            second = run_crawl(sources, db, tmp / "second.json", settings)
            urls = [a.url for a in replay.expected_articles()]
            side = newsplease(urls[: args.newsplease_pages], tmp) if args.newsplease_pages else None
            step = max(1, len(urls) // args.extract_pages) if args.extract_pages else 1
            sample = list(article_pages(replay.built, step))
        page_kb = sum(len(page.encode()) for _, _, page in sample) / max(1, len(sample)) / 1024
        bound = apart("extraction_only", sample, sources, tmp)
        if side is not None and not side["available"]:
            baseline = apart("trafilatura_baseline", sample[:500], sources, tmp)
            side = {**side, "baseline": "trafilatura.bare_extraction", **baseline}

    stats = first["stats"]
    article_pages_done = stats.get("item_scraped_count", 0) + stats.get("item_dropped_count", 0)
    crawl_s = stats.get("elapsed_time_seconds") or first["wall_s"]
    e2e = article_pages_done / crawl_s if crawl_s else 0.0
    stage_ms = {stage: stats.get(f"bench/time_ms/{stage}", stats.get(f"sahel/time_ms/{stage}")) for stage in STAGES}
    worker_stages = ("extract", "language", "dedup_prints", "keywords", "places")
    worker_ms = {s: stats.get(f"sahel/time_ms/{s}") or 0 for s in worker_stages}
    reactor_stages = ("canonical", "dedup", "store")
    store_writes = stats.get("sahel/time_ms/store_writes") or 0  # the storage stage's database thread
    in_crawler = sum(stage_ms[s] or 0 for s in reactor_stages) + store_writes
    if stats.get("sahel/extract_workers", 0) == 0:  # inline: the worker stages ran in the crawler too
        in_crawler += sum(worker_ms.values())
    stage_ms["fetch"] = stats["bench/crawler_cpu_s"] * 1000 - in_crawler
    stage_ms["language"] = worker_ms["language"]
    stage_ms["keywords"] = worker_ms["keywords"] + worker_ms["places"]  # keyword and place hits
    stage_ms["dedup"] = (stage_ms["dedup"] or 0) + worker_ms["dedup_prints"]  # worker part + reactor part
    stage_ms["store"] = (stage_ms["store"] or 0) + store_writes
    extract_ms = stage_ms["extract"] or 0.0
    tree_ms = first["tree_cpu_s"] * 1000
    result = {
        "articles": args.articles,
        "texts": "corpus" if builder.from_corpus else "generated",
        "page_kb": round(page_kb, 1),
        "article_pages": article_pages_done,
        "stored": stats.get("sahel/new_articles", 0),
        "workers": args.workers if args.workers is not None else cores,
        "cores": cores,
        "first_run_s": round(first["wall_s"], 2),
        "crawl_s": round(crawl_s, 2),
        "startup_s": round(first["wall_s"] - crawl_s, 2),
        "end_to_end_pages_per_s": round(e2e, 1),
        "extraction_only_pages_per_s": round(bound["pages_per_s"], 1),
        "extraction_only_pages": bound["pages"],
        "ratio": round(e2e / bound["pages_per_s"], 3),
        # The bound as extraction ran in the crawl's workers, in the same minutes: immune to this
        # machine's speed drifting between the crawl and the extraction-only run (up to 30%),
        # though it counts against the bound what the crawl's other processes cost extraction.
        "ratio_same_period": round(e2e * (stage_ms["extract"] or 0) / max(1, article_pages_done) / 1000, 3),
        "stage_ms_per_page": {s: _per_page(stage_ms[s], max(1, article_pages_done)) for s in STAGES},
        "extraction_only_ms_per_page": round(bound["ms_per_page"], 3),
        "overhead": round((tree_ms - extract_ms) / extract_ms, 3) if extract_ms else None,
        "cpu_utilisation": round(first["tree_cpu_s"] / (first["wall_s"] * cores), 3),
        "crawl_cpu_s": round(first["tree_cpu_s"], 2),
        "replay_cpu_s": round(first["replay_cpu_s"], 2),
        "peak_rss_mb": round(max(first["peak_rss_mb"], second["peak_rss_mb"]), 1),
        "peak_pss_mb": round(max(first["peak_pss_mb"], second["peak_pss_mb"]), 1),
        "peak_processes": first["processes"],
        "incremental_run_s": round(second["wall_s"], 2),
        "incremental_share": round(second["wall_s"] / first["wall_s"], 3),
        "incremental_requests": second["stats"].get("downloader/request_count", 0),
        "errors": stats.get("sahel/errors", 0),
        "workers_replaced": stats.get("sahel/extract_workers_replaced", 0),
        "side_by_side": None,
    }
    if side is not None:
        theirs = side.get("pages_per_s")
        result["side_by_side"] = {
            **side,
            "ours_pages_per_s": result["end_to_end_pages_per_s"],
            "ours_over_theirs": round(e2e / theirs, 2) if theirs else None,
        }
    return result


def _table(result: dict[str, Any]) -> str:
    lines = [f"{key:<30} {value}" for key, value in result.items() if not isinstance(value, dict)]
    for name in ("stage_ms_per_page", "side_by_side"):
        for key, value in (result.get(name) or {}).items():
            lines.append(f"{name + '.' + key:<30} {value}")
    return "\n".join(lines)


def measurement_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The options of the benchmarks that measure a crawl of generated articles."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--articles", type=int, default=1000, help="articles on the generated site")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--workers", type=int, default=None, help="SAHEL_EXTRACT_WORKERS (default: one per CPU)")
    parser.add_argument(
        "--extract-pages", type=int, default=2000, help="pages (evenly sampled) for the extraction-only bound"
    )
    return parser


def main(argv: list[str]) -> dict[str, Any]:
    """Run the benchmark; print a table, or one JSON object with --json."""
    parser = measurement_parser("python -m bench crawl", __doc__.split("\n")[0])
    parser.add_argument("--light", action="store_true", help="pages without a real page's weight (template only)")
    parser.add_argument("--newsplease-pages", type=int, default=300, help="pages for news-please; 0 skips it")
    parser.add_argument(
        "--profile", type=Path, default=None, help="write cProfile statistics of the first crawl's reactor thread here"
    )
    args = parser.parse_args(argv)
    result = measure(args)
    print(json.dumps(result) if args.json else _table(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
