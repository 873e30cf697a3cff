"""Full-text search latency (p50/p95) on generated articles, SQLite FTS5 and PostgreSQL
tsvector/GIN, and the export rate (JSONL and Parquet rows per second).

Articles are stitched from sentences of real texts in ../shared/corpus (France 24 Arabic,
MasakhaNEWS French), or synthetic words without the corpus, and bulk-inserted with their
normalised search text. Queries are one or two words drawn from the articles' vocabulary (some
rare, some common) plus the lexicon's Sahel names, run through `storage.search.search` with the
default limit of 20 and snippets in the original text, as `sahel search` runs them. PostgreSQL
is skipped when the server is not reachable.

    python -m bench search [--articles 100000] [--queries 200] [--export-rows 20000]
                           [--postgres URL | --no-postgres] [--seed 7]
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bench.common import news_texts
from sahel_crawler.exporting import article_record, write_jsonl, write_parquet
from sahel_crawler.text.arabic import word_variants
from sahel_crawler.text.fold import fold_key
from sahel_crawler.text.index import search_text
from sahel_crawler.text.snippet import original_snippet
from storage.db import open_database, session_factory
from storage.filters import ArticleFilter
from storage.models import Article, KeywordHit, Outlet
from storage.repository import iter_articles
from storage.search import article_search, search

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NAMES = ["أزواد", "كيدال", "تمبكتو", "الساحل", "مالي", "Azawad", "Kidal", "Ménaka", "Tillabéri", "jihadistes"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def _sentences(rng: random.Random) -> list[str]:
    sentences = [s.strip() for _, text in news_texts() for s in text.split(".") if len(s.split()) >= 6]
    if not sentences:
        words = [f"w{n}" for n in range(30000)] + NAMES
        sentences = [" ".join(rng.choices(words, k=rng.randint(8, 25))) for _ in range(50000)]
    return sentences


def _articles(count: int, rng: random.Random) -> list[dict]:
    sentences = _sentences(rng)
    rows = []
    for n in range(1, count + 1):
        body = ". ".join(rng.choices(sentences, k=rng.randint(3, 8))) + "."
        if rng.random() < 0.1:
            body += f" {rng.choice(NAMES)}."
        rows.append(
            {
                "id": n,
                "url": f"https://bench.example/{n}",
                "outlet_id": ("france24", "meo", "bbc")[n % 3],
                "title": rng.choice(sentences)[:120],
                "text": body,
                "fetched_at": START + timedelta(minutes=n),
                "published_at": START + timedelta(minutes=n) if n % 7 else None,
                "language": "ar" if any("\u0600" <= c <= "\u06ff" for c in body[:40]) else "fr",
            }
        )
    return rows


def _fill(db_url: str, rows: list[dict], rng: random.Random) -> float:
    engine = open_database(db_url)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            insert(Outlet), [{"id": o, "name": o, "first_seen_at": START} for o in ("france24", "meo", "bbc")]
        )
        for at in range(0, len(rows), 5000):
            batch = rows[at : at + 5000]
            connection.execute(insert(Article), batch)
            hits = [
                {"article_id": r["id"], "concept_id": c, "form": c, "count": 1, "first_offset": 0, "snippet": c}
                for r in batch
                for c in rng.sample(["mali", "azawad", "niger", "kidal"], k=rng.randint(0, 2))
            ]
            if hits:
                connection.execute(insert(KeywordHit), hits)
            search_rows = [
                {
                    "article_id": r["id"],
                    "search_text": search_text(r["title"], None, r["text"]),
                    "indexed_at": START,
                }
                for r in batch
            ]
            connection.execute(insert(article_search), search_rows)
    took = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return took


def _queries(rows: list[dict], count: int, rng: random.Random) -> list[str]:
    vocabulary = [w for r in rng.sample(rows, min(2000, len(rows))) for w in r["text"].split() if len(w) > 3]
    queries = []
    for n in range(count):
        if n % 5 == 0:
            queries.append(rng.choice(NAMES))
        elif n % 5 == 1:
            queries.append(" ".join(rng.sample(vocabulary, 2)))
        else:
            queries.append(rng.choice(vocabulary))
    return [fold_key(q.strip(".,:;«»\"'()")) for q in queries]


def _percentiles(timings: list[float]) -> dict:
    timings = sorted(timings)
    return {
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 2),
        "max_ms": round(timings[-1], 2),
    }


def _latency(db_url: str, queries: list[str]) -> dict:
    """Percentiles over all queries, and over the Sahel names alone (what monitors search for)."""
    engine = open_database(db_url)
    factory = session_factory(engine)
    timings, names, found = [], [], 0
    folded_names = {fold_key(n) for n in NAMES}
    with factory() as session:
        search(session, queries[0], word_variants=word_variants, original_snippet=original_snippet)  # warm the cache
        for query in queries:
            started = time.perf_counter()
            found += len(search(session, query, word_variants=word_variants, original_snippet=original_snippet))
            took = (time.perf_counter() - started) * 1000
            timings.append(took)
            if query in folded_names:
                names.append(took)
    engine.dispose()
    by_name = _percentiles(names)
    return {
        **_percentiles(timings),
        "names_p50_ms": by_name["p50_ms"],
        "names_p95_ms": by_name["p95_ms"],
        "mean_hits": round(found / len(queries), 1),
    }


def _export_rate(db_url: str, rows: int, workdir: Path) -> dict:
    engine = open_database(db_url)
    factory = session_factory(engine)
    until = START + timedelta(minutes=rows + 1)
    flt = ArticleFilter(until=until)
    rates = {}
    for fmt in ("jsonl", "parquet"):
        with factory() as session:
            records = (article_record(a) for a in iter_articles(session, flt))
            started = time.perf_counter()
            if fmt == "jsonl":
                count = write_jsonl(records, io.StringIO())
            else:
                count = write_parquet(records, workdir / "bench.parquet")
            rates[f"{fmt}_rows_per_s"] = round(count / (time.perf_counter() - started))
    engine.dispose()
    return rates


def _postgres_database(server_url: str) -> tuple[str, object]:
    server = make_url(server_url)
    name = f"sahel_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--export-rows", type=int, default=20_000)
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    rows = _articles(args.articles, rng)
    queries = _queries(rows, args.queries, rng)
    results: dict = {"articles": args.articles, "queries": args.queries, "export_rows": args.export_rows}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        targets = [("sqlite", f"sqlite:///{workdir / 'bench.db'}", lambda: None)]
        if not args.no_postgres:
            try:
                url, drop = _postgres_database(args.postgres)
                targets.append(("postgresql", url, drop))
            except Exception as exc:
                print(f"postgresql skipped: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
        for name, url, drop in targets:
            try:
                load = _fill(url, rows, random.Random(args.seed))
                results[name] = {
                    "load_s": round(load, 1),
                    **_latency(url, queries),
                    **_export_rate(url, args.export_rows, workdir),
                }
            finally:
                drop()
    header = ("database", "load s", "p50 ms", "p95 ms", "max ms", "names p50", "names p95", "jsonl/s", "parquet/s")
    print(f"{header[0]:<11} " + " ".join(f"{h:>9}" for h in header[1:]))
    for name in ("sqlite", "postgresql"):
        if name in results:
            r = results[name]
            keys = ("load_s", "p50_ms", "p95_ms", "max_ms", "names_p50_ms", "names_p95_ms")
            keys += ("jsonl_rows_per_s", "parquet_rows_per_s")
            print(f"{name:<11} " + " ".join(f"{r[k]:>9}" for k in keys))
    return results
