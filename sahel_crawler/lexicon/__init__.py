"""The keyword lexicon: concepts with Arabic, French and English forms, and the matcher.

lexicon = load_lexicon()            # the bundled lexicon.yaml
lexicon.match("هجوم في كيدال")       # -> [ConceptHit(concept="kidal", ...)]
"""

from sahel_crawler.lexicon.flagging import article_text, flag_article
from sahel_crawler.lexicon.loader import DEFAULT_PATH, Lexicon, load_lexicon, parse_lexicon
from sahel_crawler.lexicon.model import ACTOR_CATEGORIES, LANGUAGES, Concept, ConceptHit, Form, LexiconError

__all__ = [
    "ACTOR_CATEGORIES",
    "DEFAULT_PATH",
    "LANGUAGES",
    "Concept",
    "ConceptHit",
    "Form",
    "Lexicon",
    "LexiconError",
    "article_text",
    "flag_article",
    "load_lexicon",
    "parse_lexicon",
]
