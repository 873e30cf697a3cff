"""The query language: parsing (printing and re-parsing keeps the tree), one-line errors with
the position, and evaluation of every operator against articles flagged by the real lexicon."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from sahel_crawler.commands.search import search_command
from sahel_crawler.lexicon import flag_article, load_lexicon
from sahel_crawler.query import ArticleFacts, QueryError, QueryEvaluator, parse_query
from sahel_crawler.query.ast import FIELDS, KEYWORDS, And, Field, Near, Node, Not, Or, Phrase, Sentence, Word
from tests.test_postgres_storage import BACKENDS, fill, throwaway_database

LEXICON = load_lexicon()
EVALUATOR = QueryEvaluator(LEXICON)


def article(title: str, text: str, *, language: str = "fr", outlet: str = "france24", day: int = 2) -> ArticleFacts:
    """An article flagged by the bundled lexicon, as the crawl would store it."""
    concepts = frozenset(hit.concept for hit in flag_article(LEXICON, title, text))
    published = datetime(2026, 12, day, 9, tzinfo=UTC)
    return ArticleFacts(1, "https://x.example/a", outlet, language, title, None, text, published, published, None,
                        concepts)  # fmt: skip


def matches(query: str, facts: ArticleFacts) -> bool:
    node = parse_query(query)
    EVALUATOR.check(node, query)
    return EVALUATOR.matches(node, facts)


FR = article(
    "Kidal : le FLA et le JNIM s'affrontent",
    "Le Front de libération de l'Azawad affirme avoir repoussé une attaque. "
    "Plus loin dans le texte, après beaucoup de mots sans rapport avec le sujet principal de la dépêche, "
    "on parle encore du Groupe de soutien à l'islam et aux musulmans près de Ménaka.",
)
AR = article(
    "اشتباكات في كيدال",
    "قالت جبهة تحرير أزواد إن جماعة نصرة الإسلام والمسلمين هاجمت مواقعها. وأضاف البيان أن الوضع هادئ.",
    language="ar",
    outlet="meo",
)


def test_concepts_categories_and_fields() -> None:
    assert matches("concept:fla AND concept:jnim", FR) and matches("concept:fla concept:jnim", AR)
    assert matches("category:armed_group", AR)
    assert not matches("concept:is_sahel", FR)
    assert matches("concept:jnim AND NOT lang:ar", FR) and not matches("concept:jnim AND NOT lang:ar", AR)
    assert matches("outlet:meo", AR) and not matches("outlet:meo", FR)
    assert matches("since:2026-12-02 until:2026-12-02", FR)  # a bare until: date includes its day
    assert not matches("since:2026-12-03", FR) and not matches("until:2026-12-01", FR)


def test_words_phrases_or_not_and_parentheses_fold_like_search() -> None:
    assert matches("MENAKA", FR) and matches("ménaka", FR)  # case and accents
    assert matches("أزواد", AR) and matches("الإسلام", AR)  # hamza folded
    assert matches("كيدال", AR) and matches('"الوضع هادئ"', AR)
    assert not matches('"هادئ الوضع"', AR)  # a phrase keeps its order
    assert matches("bamako OR kidal", FR) and not matches("bamako OR gao", FR)
    assert matches("kidal NOT (bamako OR gao)", FR) and not matches("NOT kidal", FR)


def test_near_counts_the_words_between_two_terms() -> None:
    # In the title FLA and JNIM have two words between them ("et le").
    assert matches("NEAR/2(concept:fla, concept:jnim)", FR)
    assert not matches("NEAR/1(concept:fla, concept:jnim)", article("Le FLA et le JNIM à Kidal", "Rien."))
    assert matches("NEAR/3(repoussé, attaque)", FR) and not matches("NEAR/3(repoussé, ménaka)", FR)
    assert matches("NEAR/0(جبهة, تحرير)", AR)


def test_sentence_needs_both_terms_in_one_sentence() -> None:
    assert matches("SENTENCE(concept:fla, concept:jnim)", AR)
    assert not matches("SENTENCE(concept:fla, هادئ)", AR)  # هادئ is in the next sentence
    assert matches("SENTENCE(attaque, concept:fla)", FR)
    assert not matches("SENTENCE(attaque, ménaka)", FR)


def test_snippet_is_original_text_around_the_first_match() -> None:
    node = parse_query("ménaka")
    assert "Ménaka" in EVALUATOR.snippet(node, FR)
    node = parse_query("concept:jnim")
    assert "JNIM" in EVALUATOR.snippet(node, FR)


@pytest.mark.parametrize(
    ("query", "position", "problem"),
    [
        ("concept:jnim AND", 0, "the query ends"),
        ("(kidal OR gao", 0, "expected )"),
        ("kidal)", 6, "closes nothing"),
        ("foo:bar", 1, "unknown field foo:"),
        ("NEAR/5(kidal gao)", 14, "separated by a comma"),
        ('"kidal', 1, "never closed"),
        ("since:2026-13-40", 1, "not a date"),
        ("kidal OR OR gao", 10, "OR needs"),
        ("-gao", 1, "use NOT gao"),
        ("ména*", 1, "wildcards"),
        ("", 0, "empty"),
    ],
)
def test_malformed_queries_point_at_the_position(query: str, position: int, problem: str) -> None:
    with pytest.raises(QueryError) as error:
        parse_query(query)
    message = str(error.value)
    assert problem in message and "\n" not in message
    assert f"at character {position} " in message if position else "at the end" in message


def test_unknown_concepts_and_fields_in_near_are_refused_with_their_position() -> None:
    for query, position in (("kidal concept:nope", 7), ("category:nope", 1), ("NEAR/3(kidal, lang:fr)", 15)):
        with pytest.raises(QueryError, match=f"at character {position} "):
            EVALUATOR.check(parse_query(query), query)


# -- printing and re-parsing ------------------------------------------------------------

_word_chars = st.sampled_from(list("abcdeéàzAZ019") + list("كيدالأزواد") + ["'", "-", "."])
words = (
    st.text(_word_chars, min_size=1, max_size=8)
    .filter(lambda w: w not in KEYWORDS and w != "SENTENCE" and not w.startswith("-") and any(c.isalnum() for c in w))
    .filter(lambda w: ":" not in w and not w.startswith("NEAR/"))
    .map(Word)
)
phrases = st.lists(st.text(_word_chars, min_size=1, max_size=6), min_size=1, max_size=3).map(" ".join)
phrases = phrases.filter(lambda p: any(c.isalnum() for c in p)).map(Phrase)
fields = st.builds(
    Field,
    st.sampled_from([f for f in FIELDS if f not in ("since", "until")]),
    st.text(st.sampled_from(list("abz_09é")), min_size=1, max_size=6),
) | st.builds(Field, st.sampled_from(["since", "until"]), st.sampled_from(["2026-11-01", "2026-12-04T08:30:00"]))
terms = words | phrases | fields
pairs = st.builds(Near, st.integers(0, 50), terms, terms) | st.builds(Sentence, terms, terms)


def _trees(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    many = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.builds(Not, children) | many.map(And) | many.map(Or)


queries = st.recursive(terms | pairs, _trees, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(queries)
def test_printing_and_parsing_a_query_gives_back_the_same_tree(node: Node) -> None:
    printed = str(node)
    assert parse_query(printed) == node, printed


_PIECES = [*'ab :()",-*', "AND ", "OR ", "NOT ", "NEAR/2", "concept:"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=20).map("".join))
def test_any_input_parses_or_is_refused_with_one_line(query: str) -> None:
    try:
        node = parse_query(query)
    except QueryError as error:
        assert "\n" not in str(error) and 0 <= error.position <= len(query)
    else:
        assert parse_query(str(node)) == node


def test_positions_take_no_part_in_comparing_trees() -> None:
    assert dataclasses.replace(Word("kidal"), at=5) == Word("kidal")


# -- `sahel search QUERY` ---------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def stored(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with throwaway_database(request.param, tmp_path, request) as url:
        fill(url)
        yield url


def found(url: str, query: str) -> list[str]:
    result = CliRunner().invoke(search_command, [query, "--db", url, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    return sorted(json.loads(line)["url"] for line in result.output.splitlines())


def test_search_command_takes_the_query_language(stored: str) -> None:
    french = ["https://f24.example/fr/3", "https://meo.example/fr/4"]
    assert found(stored, "concept:azawad AND NOT lang:ar") == french
    assert found(stored, "concept:azawad lang:ar outlet:meo") == ["https://meo.example/ar/2"]
    assert found(stored, "NEAR/1(concept:azawad, كيدال) OR repris") == ["https://meo.example/fr/4"]
    # The title is a sentence of its own; in ar/1 the Azawad of the body is inside another
    # concept's name, the MNLA's, which implies azawad: that sentence names Azawad too.
    assert found(stored, "SENTENCE(concept:azawad, باماكو)") == ["https://meo.example/ar/2"]
    assert found(stored, "SENTENCE(concept:azawad, هجوم)") == ["https://f24.example/ar/1"]
    assert found(stored, "NEAR/6(concept:azawad, هجوم)") == ["https://f24.example/ar/1", "https://meo.example/ar/2"]
    assert found(stored, "concept:niger OR (ménaka until:2026-11-17)") == ["https://bbc.example/en/5", *french]
    assert found(stored, "ménaka") == french  # a bare word query is the ranked full-text search


def test_search_command_refuses_a_malformed_query_with_its_position(stored: str) -> None:
    result = CliRunner().invoke(search_command, ["concept:azawad AND (lang:fr", "--db", stored])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "sahel: error: malformed query at the end: expected ) to close the ( at character 20"
    ]
    result = CliRunner().invoke(search_command, ["concept:azawd", "--db", stored])
    assert result.exit_code == 2 and "at character 1 ('concept:azawd'): unknown concept 'azawd'" in result.output
