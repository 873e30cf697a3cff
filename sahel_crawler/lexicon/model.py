"""The lexicon's data: concepts, their forms, and what a match reports."""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES = ("ar", "fr", "en")
# The categories whose concepts act (armed groups, movements, coalitions, foreign forces,
# persons): the digest's "who is mentioned with whom" pairs them.
ACTOR_CATEGORIES = frozenset({"armed_group", "separatist_movement", "coalition", "foreign_force", "person"})


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file, the concept and the key."""


@dataclass(frozen=True)
class Form:
    """One way a concept is written.

    ``weak`` forms are ambiguous on their own (مالي also means "financial", Gao is also a
    surname): they count only inside one of the concept's ``confirm`` phrases, or when the
    document has a strong hit of the same concept or of one of ``needs``.
    ``exact_case`` forms (acronyms such as FLA) must appear with exactly this case.
    """

    text: str
    language: str
    weak: bool = False
    needs: tuple[str, ...] = ()
    exact_case: bool = False


@dataclass(frozen=True)
class Concept:
    """A thing analysts follow: an armed group, a place, a person, a country."""

    id: str
    category: str
    labels: dict[str, str]
    forms: dict[str, tuple[Form, ...]]
    # phrases (per language) inside which a match of this concept is not this concept
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # phrases (per language) inside which a weak form counts without further support
    confirm: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # concepts this one names (fla, "Front de libération de l'Azawad", implies azawad): a hit of
    # this concept is also a hit of each of them, even where longest match drops the inner name
    implies: tuple[str, ...] = ()

    def all_forms(self) -> list[Form]:
        """Every form of the concept, all languages."""
        return [f for lang in self.forms for f in self.forms[lang]]


@dataclass(frozen=True)
class ConceptHit:
    """What flagging found for one concept in one text (offsets refer to the original text)."""

    concept: str  # concept id
    form: str  # the first match as written in the original text
    count: int  # number of matches of this concept
    first_offset: int  # character offset of the first match in the original text
    snippet: str  # ~200 characters of original text around the first match, whitespace collapsed
    # why the first match counts: "strong", "weak, confirmed by <phrase>", "weak, with <concept>"
    # (a strong hit of the concept or of one it needs), or "implied by <concept>"
    rule: str = "strong"


def implied_by(concepts: dict[str, Concept], cid: str) -> list[str]:
    """The concepts a hit of ``cid`` also flags, directly or through others, nearest first."""
    found: list[str] = []
    queue = list(concepts[cid].implies)
    while queue:
        implied = queue.pop(0)
        if implied in found or implied not in concepts:
            continue
        found.append(implied)
        queue.extend(concepts[implied].implies)
    return found
