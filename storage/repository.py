"""Functions that read and write the database. Each takes a session and never commits:
the caller owns the transaction (`with Session.begin():`), so several writes land together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.db import dialect_insert
from storage.filters import ArticleFilter
from storage.models import (
    Article,
    ArticleAlias,
    ArticleSignature,
    CrawlError,
    CrawlRun,
    KeywordHit,
    Outlet,
    PlaceHit,
    utcnow,
)

# The registry's outlet metadata as the outlets table stores it (languages comma-separated).
OUTLET_METADATA = ("country", "languages", "kind", "owner", "state_affiliated")

RUN_COUNTERS = (
    "requests",
    "pages_fetched",
    "new_articles",
    "updated_articles",
    "exact_duplicates",
    "near_duplicates",
    "skipped_seen",
    "not_modified",
    "no_text",
    "errors",
)


@dataclass
class ArticleRecord:
    """What the pipeline hands to storage for one article."""

    url: str  # canonical URL: the article's key
    outlet: str
    text: str
    fetched_at: datetime
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    published_at_source: str | None = None
    description: str | None = None
    standfirst: str | None = None
    paywalled: bool = False
    text_source: str = "page"  # "page" | "feed"
    language: str | None = None
    language_prob: float | None = None
    text_hash: str | None = None
    discovered_via: str | None = None
    aliases: list[str] = field(default_factory=list)
    duplicate_of_url: str | None = None
    signature: bytes | None = None
    keyword_hits: list[Mapping[str, Any]] = field(default_factory=list)
    lexicon_version: str | None = None
    # one dict per place name found (sahel_crawler.places.PlaceHit fields); None: not looked for
    place_hits: list[Mapping[str, Any]] | None = None
    # the folded search-index text, when the caller has it (None: the caller's indexer folds it)
    search_text: str | None = None


@dataclass(frozen=True)
class SaveResult:
    article_id: int
    outcome: str  # "new" | "updated" | "unchanged"


# -- outlets and runs ---------------------------------------------------------------------


def ensure_outlets(
    session: Session, outlets: Mapping[str, str], metadata: Mapping[str, Mapping[str, Any]] | None = None
) -> None:
    """Insert missing outlets (id -> name) and refresh the names of known ones, with their
    registry metadata (id -> column -> value, the columns of OUTLET_METADATA) when given.

    Safe when several crawls start at once on one database (scaled-out workers): the missing
    outlets go in one INSERT that skips any a concurrent crawl inserted first.
    """
    metadata = metadata or {}
    known = {o.id: o for o in session.scalars(select(Outlet).where(Outlet.id.in_(list(outlets))))}
    for oid, outlet in known.items():
        outlet.name = outlets[oid]
        for column, value in metadata.get(oid, {}).items():
            setattr(outlet, column, value)
    missing = [
        {"id": oid, "name": outlets[oid], **metadata.get(oid, {})} for oid in sorted(outlets) if oid not in known
    ]
    if missing:
        table = Outlet.__table__
        session.execute(dialect_insert(session, table).on_conflict_do_nothing(index_elements=[table.c.id]), missing)
    session.flush()


def known_outlet_ids(session: Session) -> list[str]:
    """The ids of the outlets the database knows (every crawled outlet), sorted."""
    return list(session.scalars(select(Outlet.id).order_by(Outlet.id)))


def known_languages(session: Session) -> list[str]:
    """The language codes of the stored articles, lower-case and sorted."""
    codes = session.scalars(select(func.lower(Article.language)).where(Article.language.is_not(None)).distinct())
    return sorted(set(codes))


def start_run(
    session: Session,
    outlet_ids: Iterable[str],
    *,
    pid: int | None = None,
    host: str | None = None,
    process_start: str | None = None,
) -> int:
    """Record the start of a crawl run (with the process running it, when given) and return its id."""
    run = CrawlRun(outlets=",".join(outlet_ids), status="running", pid=pid, host=host, process_start=process_start)
    session.add(run)
    session.flush()
    return run.id


INTERRUPTED_REASON = "the crawl's process ended without closing its run"


def running_runs(session: Session) -> list[CrawlRun]:
    """The runs recorded as running, oldest first."""
    return list(session.scalars(select(CrawlRun).where(CrawlRun.status == "running").order_by(CrawlRun.id)))


def mark_interrupted(session: Session, run_ids: Iterable[int]) -> int:
    """Record runs whose process is gone as `interrupted` (only those still running); return how many."""
    ids = list(run_ids)
    if not ids:
        return 0
    query = (
        update(CrawlRun)
        .where(CrawlRun.id.in_(ids), CrawlRun.status == "running")
        .values(status="interrupted", finish_reason=INTERRUPTED_REASON)
    )
    return session.execute(query).rowcount


def finish_run(session: Session, run_id: int, *, status: str, reason: str | None, counts: Mapping[str, int]) -> None:
    """Close a crawl run with its status and counters (unknown counter names are ignored)."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        return
    run.finished_at = utcnow()
    run.status = status
    run.finish_reason = reason
    for name in RUN_COUNTERS:
        if name in counts:
            setattr(run, name, int(counts[name]))


def record_error(
    session: Session, run_id: int | None, *, url: str, kind: str, reason: str, outlet: str | None = None
) -> None:
    """Remember one page-level failure of a run."""
    if run_id is None:
        return
    session.add(CrawlError(run_id=run_id, outlet_id=outlet, url=url[:2048], kind=kind, reason=reason))


def recent_runs(session: Session, limit: int = 20) -> list[CrawlRun]:
    """The latest crawl runs, newest first."""
    return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)))


# -- articles -----------------------------------------------------------------------------


def article_id_for_url(session: Session, url: str) -> int | None:
    """The id of the article stored under `url`, either as its key or as one of its aliases."""
    return _article_ids(session, [url], aliases=True).get(url)


def add_alias(session: Session, article_id: int, url: str, reason: str = "variant", *, guarded: bool = True) -> bool:
    """Record another URL of an article; False when the URL was already known.

    `guarded=False` skips the savepoint that absorbs a concurrent crawl's insert of the same URL:
    the IntegrityError then fails the caller's whole transaction (see `save_article`).
    """
    if article_id_for_url(session, url) is not None:
        return False
    if not guarded:
        session.add(ArticleAlias(article_id=article_id, url=url, reason=reason))
        return True
    try:
        with session.begin_nested():
            session.add(ArticleAlias(article_id=article_id, url=url, reason=reason))
    except IntegrityError:  # a concurrent crawl recorded it first
        return False
    return True


_UPDATABLE = (
    "title",
    "author",
    "published_at",
    "published_at_source",
    "description",
    "standfirst",
    "paywalled",
    "text_source",
    "language",
    "language_prob",
    "text",
    "text_hash",
)


def save_article(
    session: Session, record: ArticleRecord, run_id: int | None = None, *, guarded: bool = True
) -> SaveResult:
    """Insert the article or update it in place; idempotent for an unchanged article.

    An insert runs in a savepoint, so a row a concurrent crawl inserted first is absorbed.
    Guarded (the default), so do the aliases; `guarded=False` (`save_articles`, for articles
    already stored) saves their savepoints: a conflict then raises IntegrityError and the caller
    rolls the batch back and writes its articles again, guarded, one by one.
    """
    article = session.scalar(select(Article).where(Article.url == record.url))
    if article is None:
        article = _insert_article(session, record, run_id)
        if article is None:  # lost a race with a concurrent crawl: the row exists now
            return save_article(session, record, run_id)
        outcome = "new"
    elif record.text_source == "feed" and article.text_source == "page":
        outcome = "unchanged"  # a feed teaser never replaces the page's text
    elif article.text != record.text or article.title != record.title or article.text_source != record.text_source:
        for name in _UPDATABLE:
            setattr(article, name, getattr(record, name))
        article.updated_at = utcnow()
        outcome = "updated"
    else:
        outcome = "unchanged"
    for alias in record.aliases:
        if alias != record.url:
            add_alias(session, article.id, alias, guarded=guarded)
    if outcome == "new":
        # A row just inserted has no keyword hits nor signature yet: add them without looking.
        _add_keyword_hits(session, article.id, record.keyword_hits)
        session.add_all(PlaceHit(**_place_row(article.id, hit)) for hit in record.place_hits or ())
        if record.signature is not None:
            session.add(ArticleSignature(article_id=article.id, signature=record.signature))
    else:
        if record.keyword_hits or record.lexicon_version:
            replace_keyword_hits(session, article.id, record.keyword_hits, record.lexicon_version)
        if record.place_hits is not None:
            replace_place_hits(session, article.id, record.place_hits)
        if record.signature is not None:
            stored_signature = session.get(ArticleSignature, article.id)
            if stored_signature is None:
                session.add(ArticleSignature(article_id=article.id, signature=record.signature))
            elif outcome == "updated":  # the text changed: later crawls must compare against the new one
                stored_signature.signature = record.signature
    session.flush()
    return SaveResult(article.id, outcome)


def save_articles(session: Session, records: list[ArticleRecord], run_id: int | None = None) -> list[SaveResult]:
    """`save_article` for a batch in one transaction, unguarded; results in the order of `records`.

    New articles (the common case in a crawl) are written with a few multi-row statements
    instead of one ORM flush each: one lookup of the batch's URLs, one insert of the articles,
    then their aliases, keyword hits and signatures. Records whose URL is stored already, or
    that repeat a URL of the batch, go through `save_article` afterwards, in order. A
    concurrent crawl's insert of the same URL raises IntegrityError, as with `guarded=False`.
    """
    stored = _article_ids(session, [r.url for r in records])
    fresh: dict[str, int] = {}  # url -> position of the record that inserts it
    for position, record in enumerate(records):
        if record.url not in stored and record.url not in fresh:
            fresh[record.url] = position
    new = [records[p] for p in fresh.values()]
    results: list[SaveResult | None] = [None] * len(records)
    if new:
        rows = session.execute(
            insert(Article).returning(Article.id, sort_by_parameter_order=True),
            [_article_row(record, run_id) for record in new],
        )
        ids = [row[0] for row in rows]
        inserted = {record.url: article_id for record, article_id in zip(new, ids, strict=True)}
        _link_duplicates(session, new, inserted)
        _add_new_aliases(session, new, inserted)
        hits = [_hit_row(inserted[r.url], hit) for r in new for hit in r.keyword_hits]
        if hits:
            session.execute(insert(KeywordHit), hits)
        places = [_place_row(inserted[r.url], hit) for r in new for hit in r.place_hits or ()]
        if places:
            session.execute(insert(PlaceHit), places)
        signatures = [{"article_id": inserted[r.url], "signature": r.signature} for r in new if r.signature]
        if signatures:
            session.execute(insert(ArticleSignature), signatures)
        for position in fresh.values():
            results[position] = SaveResult(inserted[records[position].url], "new")
    for position, record in enumerate(records):
        if results[position] is None:
            results[position] = save_article(session, record, run_id, guarded=False)
    return [r for r in results if r is not None]


def _article_ids(session: Session, urls: Iterable[str], *, aliases: bool = False) -> dict[str, int]:
    """The ids of the articles stored under `urls` as their keys or, with `aliases`, as one of
    their aliases (a key wins), a few statements per 500 URLs; unknown URLs are left out."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(urls))):
        found.update(session.execute(select(Article.url, Article.id).where(Article.url.in_(chunk))).all())
        rest = [url for url in chunk if url not in found] if aliases else []
        if rest:
            by_alias = select(ArticleAlias.url, ArticleAlias.article_id).where(ArticleAlias.url.in_(rest))
            found.update(session.execute(by_alias).all())
    return found


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    # Bound the number of parameters per statement (SQLite allows 32,766 at most).
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _article_row(record: ArticleRecord, run_id: int | None) -> dict[str, Any]:
    return {
        "url": record.url,
        "outlet_id": record.outlet,
        "fetched_at": record.fetched_at,
        "discovered_via": record.discovered_via,
        "duplicate_of_id": None,  # set by _link_duplicates once every id is known
        "first_run_id": run_id,
        "lexicon_version": record.lexicon_version,
        **{name: getattr(record, name) for name in _UPDATABLE},
    }


def _link_duplicates(session: Session, new: list[ArticleRecord], inserted: dict[str, int]) -> None:
    """Point each new near-duplicate at its original: in this batch, or stored (key or alias)."""
    pending = [r for r in new if r.duplicate_of_url]
    if not pending:
        return
    elsewhere = [r.duplicate_of_url for r in pending if r.duplicate_of_url not in inserted]
    originals = _article_ids(session, elsewhere, aliases=True) | inserted  # type: ignore[arg-type]
    updates = [
        {"row_id": inserted[r.url], "original_id": originals[r.duplicate_of_url]}  # type: ignore[index]
        for r in pending
        if r.duplicate_of_url in originals
    ]
    if updates:
        session.execute(
            update(Article.__table__)
            .where(Article.__table__.c.id == bindparam("row_id"))
            .values(duplicate_of_id=bindparam("original_id")),
            updates,
        )


def _add_new_aliases(session: Session, new: list[ArticleRecord], inserted: dict[str, int]) -> None:
    """The aliases of new articles that no article or alias holds yet (the first claim wins)."""
    wanted = [(inserted[r.url], alias) for r in new for alias in r.aliases if alias != r.url]
    if not wanted:
        return
    taken = set(_article_ids(session, (alias for _, alias in wanted), aliases=True)) | set(inserted)
    rows = []
    for article_id, alias in wanted:
        if alias not in taken:
            taken.add(alias)
            rows.append({"article_id": article_id, "url": alias, "reason": "variant"})
    if rows:
        session.execute(insert(ArticleAlias), rows)


def _hit_row(article_id: int, hit: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "concept_id": hit["concept"],
        "form": hit["form"],
        "count": int(hit["count"]),
        "first_offset": int(hit["first_offset"]),
        "snippet": hit["snippet"],
    }


def _place_row(article_id: int, hit: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "name_id": hit["name"],
        "place_id": hit["place_id"],
        "place_kind": hit["kind"],
        "latitude": hit["lat"],
        "longitude": hit["lon"],
        "form": hit["form"],
        "count": int(hit["count"]),
        "first_offset": int(hit["first_offset"]),
        "snippet": hit["snippet"],
    }


def _insert_article(session: Session, record: ArticleRecord, run_id: int | None) -> Article | None:
    # Always in a savepoint: batches insert their new articles in `save_articles` instead.
    duplicate_of_id = article_id_for_url(session, record.duplicate_of_url) if record.duplicate_of_url else None
    article = Article(
        url=record.url,
        outlet_id=record.outlet,
        fetched_at=record.fetched_at,
        discovered_via=record.discovered_via,
        duplicate_of_id=duplicate_of_id,
        first_run_id=run_id,
        lexicon_version=record.lexicon_version,
        **{name: getattr(record, name) for name in _UPDATABLE},
    )
    try:
        with session.begin_nested():
            session.add(article)
    except IntegrityError:
        if session.scalar(select(Article.id).where(Article.url == record.url)) is None:
            raise  # not a concurrent insert of this URL (e.g. an unknown outlet): retrying cannot help
        return None
    return article


def replace_keyword_hits(
    session: Session, article_id: int, hits: Iterable[Mapping[str, Any]], lexicon_version: str | None
) -> None:
    """Replace an article's keyword hits with `hits` and record the lexicon version used."""
    session.execute(delete(KeywordHit).where(KeywordHit.article_id == article_id))
    _add_keyword_hits(session, article_id, hits)
    article = session.get(Article, article_id)
    if article is not None:
        article.lexicon_version = lexicon_version


def replace_place_hits(session: Session, article_id: int, hits: Iterable[Mapping[str, Any]]) -> None:
    """Replace an article's place hits with `hits` (sahel_crawler.places.PlaceHit fields)."""
    session.execute(delete(PlaceHit).where(PlaceHit.article_id == article_id))
    session.add_all(PlaceHit(**_place_row(article_id, hit)) for hit in hits)


def _add_keyword_hits(session: Session, article_id: int, hits: Iterable[Mapping[str, Any]]) -> None:
    session.add_all(KeywordHit(**_hit_row(article_id, hit)) for hit in hits)


def count_articles(session: Session) -> int:
    """How many articles are stored."""
    return session.scalar(select(func.count()).select_from(Article)) or 0


def articles_per_outlet_and_language(session: Session) -> list[tuple[str, str | None, int]]:
    """(outlet id, language, number of articles), for summaries."""
    rows = session.execute(
        select(Article.outlet_id, Article.language, func.count())
        .group_by(Article.outlet_id, Article.language)
        .order_by(Article.outlet_id, Article.language)
    )
    return [(r[0], r[1], r[2]) for r in rows]


# -- export -------------------------------------------------------------------------------


def iter_articles(session: Session, flt: ArticleFilter, batch_size: int = 500) -> Iterator[Article]:
    """Stored articles matching `flt` by publication time (fetch time when unknown), oldest first.

    Loads aliases, keyword hits and the original of a duplicate with the article, in batches,
    so an export of the whole database runs in bounded memory.
    """
    query = (
        select(Article)
        .options(
            selectinload(Article.aliases),
            selectinload(Article.keyword_hits),
            selectinload(Article.place_hits),
            selectinload(Article.duplicate_of),
        )
        .where(*flt.clauses())
    )
    last_id = 0
    while True:
        batch = list(session.scalars(query.where(Article.id > last_id).order_by(Article.id).limit(batch_size)))
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id
