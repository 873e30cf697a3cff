"""The analysts' views and the indexes behind their common questions, for SQLite and PostgreSQL.

Definitions are versioned: a migration creates the views of one version (`VIEWS_V1`), so a later
change adds `VIEWS_V2` and a migration that replaces them, leaving earlier migrations as they
ran. Each view is one SELECT with `{day}` (the UTC calendar day of an article: its publication
time, or its fetch time when unknown) and `{outlets}` (a comma-separated list of distinct outlet
ids) filled in per database. Documented in docs/schema.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

# When an article happened: publication time, else the time it was fetched (UTC, naive).
DATED = "COALESCE(a.published_at, a.fetched_at)"

_DIALECT_PARTS: dict[str, dict[str, str]] = {
    "sqlite": {
        "day": f"date({DATED})",
        "outlets": "group_concat(DISTINCT a.outlet_id)",
        "languages": "group_concat(DISTINCT a.language)",
    },
    "postgresql": {
        "day": f"CAST({DATED} AS DATE)",
        "outlets": "string_agg(DISTINCT a.outlet_id, ',' ORDER BY a.outlet_id)",
        "languages": "string_agg(DISTINCT a.language, ',' ORDER BY a.language)",
    },
}

VIEWS_V1: dict[str, str] = {
    # One row per article and concept found in it.
    "article_keywords": f"""
        SELECT k.article_id, k.concept_id, k.count AS mentions, k.form, k.snippet,
               a.outlet_id, a.language, a.url, a.title, a.published_at, a.fetched_at,
               {DATED} AS dated_at, {{day}} AS day,
               COALESCE(a.duplicate_of_id, a.id) AS story_id
        FROM keyword_hits k JOIN articles a ON a.id = k.article_id
    """,
    # Per UTC day, concept, outlet and language: articles, distinct stories and mentions.
    "daily_concept_counts": """
        SELECT {day} AS day, k.concept_id, a.outlet_id, a.language,
               COUNT(*) AS articles,
               COUNT(DISTINCT COALESCE(a.duplicate_of_id, a.id)) AS stories,
               SUM(k.count) AS mentions
        FROM keyword_hits k JOIN articles a ON a.id = k.article_id
        GROUP BY {day}, k.concept_id, a.outlet_id, a.language
    """,
    # One row per story: an original article with its near-duplicates collapsed into it.
    "stories": f"""
        SELECT s.id AS story_id, s.url, s.title, s.outlet_id, s.language,
               g.first_at, g.last_at, g.articles, g.outlets, g.outlet_ids, g.languages
        FROM (
            SELECT COALESCE(a.duplicate_of_id, a.id) AS story_id,
                   MIN({DATED}) AS first_at, MAX({DATED}) AS last_at,
                   COUNT(*) AS articles, COUNT(DISTINCT a.outlet_id) AS outlets,
                   {{outlets}} AS outlet_ids, {{languages}} AS languages
            FROM articles a
            GROUP BY COALESCE(a.duplicate_of_id, a.id)
        ) g JOIN articles s ON s.id = g.story_id
    """,
}

# One row per concept of each article with its story and UTC day, for pairing concepts by story.
_STORY_CONCEPTS = """
    SELECT k.concept_id, COALESCE(a.duplicate_of_id, a.id) AS story_id, {day} AS day
    FROM keyword_hits k JOIN articles a ON a.id = k.article_id
"""

VIEWS_V2: dict[str, str] = {
    # Per UTC day, the pairs of concepts flagged in the same story (the original or a copy of
    # it dated that day): who is mentioned with whom.
    "concept_pairs": f"""
        SELECT x.day, x.concept_id AS concept_a, y.concept_id AS concept_b,
               COUNT(DISTINCT x.story_id) AS stories
        FROM ({_STORY_CONCEPTS}) x
        JOIN ({_STORY_CONCEPTS}) y
          ON y.story_id = x.story_id AND y.day = x.day AND x.concept_id < y.concept_id
        GROUP BY x.day, x.concept_id, y.concept_id
    """,
}

# Places on a map (migration 0009): one row per UTC day and resolved place, with its coordinates.
VIEWS_PLACES: dict[str, str] = {
    "daily_place_counts": """
        SELECT {day} AS day, p.place_id, p.place_kind, p.latitude, p.longitude,
               COUNT(*) AS articles,
               COUNT(DISTINCT COALESCE(a.duplicate_of_id, a.id)) AS stories,
               SUM(p.count) AS mentions
        FROM place_hits p JOIN articles a ON a.id = p.article_id
        WHERE p.place_id IS NOT NULL
        GROUP BY {day}, p.place_id, p.place_kind, p.latitude, p.longitude
    """,
}

# Indexes for the views' and analysts' common filters: (name, table, expressions).
INDEXES_V1: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_articles_dated", "articles", ("COALESCE(published_at, fetched_at)",)),
    ("ix_articles_outlet_dated", "articles", ("outlet_id", "COALESCE(published_at, fetched_at)")),
    ("ix_keyword_hits_concept_article", "keyword_hits", ("concept_id", "article_id")),
)
ANALYST_INDEX_NAMES = frozenset(name for name, _, _ in INDEXES_V1)


def view_sql(name: str, dialect: str, views: Mapping[str, str] = VIEWS_V1) -> str:
    """The CREATE VIEW statement of view `name` for `dialect` ("sqlite" or "postgresql")."""
    if dialect not in _DIALECT_PARTS:
        raise ValueError(f"views are defined for SQLite and PostgreSQL, not {dialect!r}")
    select = views[name].format(**_DIALECT_PARTS[dialect])
    return f"CREATE VIEW {name} AS {' '.join(select.split())}"


def create_views(execute: Callable[[str], object], dialect: str, views: Mapping[str, str] = VIEWS_V1) -> None:
    """Create every view of `views` with `execute` (e.g. alembic's `op.execute`)."""
    for name in views:
        execute(view_sql(name, dialect, views))


def drop_views(execute: Callable[[str], object], views: Mapping[str, str] = VIEWS_V1) -> None:
    """Drop every view of `views`."""
    for name in reversed(list(views)):
        execute(f"DROP VIEW IF EXISTS {name}")
