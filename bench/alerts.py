"""Watch rule cost: evaluation time per new article with 1 and 200 rules, and the time from the
end of a crawl (its articles stored) to the last delivery of its alerts.

Articles: real France 24 Arabic and BBC Afrique French articles from ../shared/corpus when
present, else generated wire-style text; flagged with the bundled lexicon and stored in SQLite.
Deliveries go to a webhook receiver on 127.0.0.1 and to feed files; the timed crawl adds a rule
matching every article, so that each of its stories is delivered.
`python -m bench alerts [--articles N] [--rules N] [--crawl N]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import tempfile
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import france24_arabic, masakhanews_french
from sahel_crawler.alerts.deliver import DeliveryOptions
from sahel_crawler.alerts.engine import evaluate_rules
from sahel_crawler.alerts.rules import load_watch
from sahel_crawler.alerts.run import run_alerts
from sahel_crawler.lexicon import Lexicon, flag_article, load_lexicon
from sahel_crawler.query import QueryEvaluator
from storage import repository as repo
from storage.db import open_database, session_factory
from storage.models import utcnow

_WORDS = ["attaque", "armée", "Kidal", "convoi", "هجوم", "الجيش", "مالي", "village", "attack", "army"]


def _articles(count: int, offset: int) -> tuple[list[tuple[str, str, str]], str]:
    docs = [("ar", d["title"], d["text"]) for d in france24_arabic()]
    docs += [("fr", r["headline"], r["text"]) for r in masakhanews_french()]
    if not docs:
        rnd = random.Random(offset)
        texts = [" ".join(rnd.choice([*_WORDS, "JNIM", "FLA"]) for _ in range(400)) for _ in range(count)]
        return [("fr", f"Dépêche {i}", text) for i, text in enumerate(texts)], "generated"
    random.Random(0).shuffle(docs)
    return docs[offset : offset + count], "corpus (France 24 Arabic + BBC Afrique)"


def _store(db_url: str, docs: list[tuple[str, str, str]], lexicon: Lexicon, prefix: str) -> None:
    engine = open_database(db_url)
    now = utcnow()
    with session_factory(engine).begin() as session:
        repo.ensure_outlets(session, {"france24": "France 24"})
        for n, (language, title, text) in enumerate(docs):
            hits = [dataclasses.asdict(h) for h in flag_article(lexicon, title, text)]
            record = repo.ArticleRecord(
                url=f"https://bench.example/{prefix}/{n}", outlet="france24", title=title, text=text,
                fetched_at=now, published_at=now - timedelta(minutes=n), language=language,
                keyword_hits=hits, lexicon_version=lexicon.version,
            )  # fmt: skip
            repo.save_article(session, record)
    engine.dispose()


def _queries(lexicon: Lexicon, count: int) -> list[str]:
    ids = sorted(lexicon.concepts)
    categories = sorted({c.category for c in lexicon.concepts.values()})
    templates = [
        "concept:{a} AND NOT lang:ar",
        "NEAR/10(concept:{a}, concept:{b})",
        "SENTENCE(concept:{a}, {w})",
        "category:{c} OR concept:{a}",
        "{w} AND (concept:{a} OR concept:{b})",
    ]
    rnd = random.Random(2)
    return [
        templates[i % len(templates)].format(a=rnd.choice(ids), b=rnd.choice(ids), c=rnd.choice(categories),
                                             w=rnd.choice(_WORDS))
        for i in range(count)
    ]  # fmt: skip


def _watch(path: Path, queries: list[str], deliver: list[dict[str, str]]) -> Path:
    rules = [{"id": f"r{i}", "query": q, "deliver": deliver} for i, q in enumerate(queries)]
    path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    return path


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def main(argv: list[str]) -> dict:
    """Measure, print a table and return the results."""
    parser = argparse.ArgumentParser(prog="python -m bench alerts")
    parser.add_argument("--articles", type=int, default=1000, help="stored articles evaluated (default 1000)")
    parser.add_argument("--rules", type=int, default=200, help="rules of the large rule set (default 200)")
    parser.add_argument("--crawl", type=int, default=100, help="articles of the timed crawl (default 100)")
    args = parser.parse_args(argv)
    lexicon = load_lexicon()
    evaluator = QueryEvaluator(lexicon)
    docs, source = _articles(args.articles, 0)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        db_url = f"sqlite:///{base / 'bench.db'}"
        _store(db_url, docs, lexicon, "stored")
        queries = _queries(lexicon, args.rules)
        for size in (1, args.rules):
            watch = _watch(base / f"watch-{size}.yaml", queries[:size], [{"feed": str(base / "feed.xml")}])
            rules = load_watch(watch, evaluator)
            engine = open_database(db_url)
            start = time.perf_counter()
            evaluate_rules(session_factory(engine), rules, evaluator, utcnow())
            took = time.perf_counter() - start
            engine.dispose()
            rows.append({"rules": size, "articles": len(docs), "seconds": round(took, 3),
                         "ms_per_article": round(1000 * took / max(1, len(docs)), 3)})  # fmt: skip
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
        # The rules, and one matching every article: every story of the crawl is delivered.
        everything = "lang:ar OR lang:fr OR lang:en"
        watch = _watch(
            base / "watch-crawl.yaml", [*queries, everything], [{"webhook": hook}, {"feed": str(base / "crawl.xml")}]
        )
        rules = load_watch(watch, evaluator)
        engine = open_database(db_url)
        options = DeliveryOptions(None, None, 60, 3600, 10, 100)
        run_alerts(engine, rules, evaluator, options)  # every rule up to date with the stored articles
        crawl_docs, _ = _articles(args.crawl, args.articles)
        _store(db_url, crawl_docs, lexicon, "crawl")  # the crawl ends here
        start = time.perf_counter()
        report = run_alerts(engine, rules, evaluator, options)
        to_last_delivery = time.perf_counter() - start
        engine.dispose()
        server.shutdown()
    alerts = sum(e.new_alerts for e in report.evaluations)
    ratio = rows[1]["ms_per_article"] / max(rows[0]["ms_per_article"], 1e-9)
    print(f"{len(docs)} stored articles from {source}")
    print(f"{'rules':>6} {'articles':>9} {'seconds':>9} {'ms/article':>11}")
    for r in rows:
        print(f"{r['rules']:6} {r['articles']:9} {r['seconds']:9.3f} {r['ms_per_article']:11.3f}")
    print(f"{args.rules} rules cost x{ratio:.1f} one rule's per article")
    print(f"crawl of {len(crawl_docs)} new articles, {args.rules} rules: {alerts} alerts, "
          f"{report.deliveries.sent} deliveries; end of crawl to last delivery: {to_last_delivery:.3f} s")  # fmt: skip
    return {"source": source, "rows": rows, "ratio": round(ratio, 2), "crawl_articles": len(crawl_docs),
            "crawl_alerts": alerts, "crawl_deliveries": report.deliveries.sent,
            "crawl_to_last_delivery_s": round(to_last_delivery, 3)}  # fmt: skip
