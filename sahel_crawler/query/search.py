"""`sahel search` on the query language: plain word queries use the full-text index (ranked);
any other query is evaluated article by article, newest first, after a database prefilter."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sahel_crawler.query.ast import And, Node, Phrase, Word, required_concepts
from sahel_crawler.query.evaluate import ArticleFacts, QueryEvaluator
from sahel_crawler.text.arabic import word_variants
from sahel_crawler.text.fold import fold_key
from sahel_crawler.text.snippet import original_snippet
from storage.filters import ArticleFilter
from storage.query_rows import newest_articles
from storage.search import SearchHit, search


def full_text_query(node: Node) -> str | None:
    """The folded full-text query of a query made only of words and phrases, else None."""
    items = node.items if isinstance(node, And) else (node,)
    if not all(isinstance(item, Word | Phrase) for item in items):
        return None
    return fold_key(" ".join(str(item) for item in items))


def query_search(
    session: Session, node: Node, evaluator: QueryEvaluator, flt: ArticleFilter, limit: int
) -> list[SearchHit]:
    """At most `limit` articles matching the checked query `node` and the filter, best first:
    by rank for a plain word query, else newest stored first (rank 0)."""
    folded = full_text_query(node)
    if folded is not None:
        return search(session, folded, flt, limit=limit, word_variants=word_variants, original_snippet=original_snippet)
    hits: list[SearchHit] = []
    for batch in newest_articles(session, flt, required_concepts(node)):
        for row in batch:
            facts = ArticleFacts(*row)
            if evaluator.matches(node, facts):
                hits.append(_hit(facts, evaluator.snippet(node, facts)))
                if len(hits) == limit:
                    return hits
    return hits


def _hit(facts: ArticleFacts, snippet: str) -> SearchHit:
    return SearchHit(
        article_id=facts.article_id,
        url=facts.url,
        outlet=facts.outlet,
        language=facts.language,
        title=facts.title,
        published_at=facts.published_at,
        rank=0.0,
        snippet=snippet,
    )
