"""The query language of `sahel search` and of watch rules (docs/queries.md).

node = parse_query('concept:jnim AND NOT lang:ar')
str(node)                     # prints a query that parses back to the same tree
QueryEvaluator(lexicon).matches(node, facts)
"""

from sahel_crawler.query.ast import Node
from sahel_crawler.query.evaluate import ArticleFacts, QueryEvaluator
from sahel_crawler.query.parser import QueryError, parse_query

__all__ = ["ArticleFacts", "Node", "QueryError", "QueryEvaluator", "parse_query"]
