"""`sahel lexicon ...`: validate a lexicon and try it on a text."""

from __future__ import annotations

from collections import Counter

import click

from sahel_crawler.commands.common import user_errors
from sahel_crawler.lexicon import LANGUAGES, load_lexicon


@click.group("lexicon")
def lexicon() -> None:
    """Check keyword lexicons and see what a text would flag."""


@lexicon.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def check(path: str | None) -> None:
    """Validate a lexicon file (default: the bundled one) and summarise it.

    Example: sahel lexicon check my-lexicon.yaml
    """
    with user_errors():  # a LexiconError: one line naming the file, exit status 2
        lex = load_lexicon(path)
    forms = Counter(f.language for c in lex.concepts.values() for f in c.all_forms())
    categories = Counter(c.category for c in lex.concepts.values())
    click.echo(f"{lex.source}: OK, {len(lex.concepts)} concepts, version {lex.version}")
    click.echo("forms: " + ", ".join(f"{lang} {forms.get(lang, 0)}" for lang in LANGUAGES))
    click.echo("categories: " + ", ".join(f"{k} {v}" for k, v in sorted(categories.items())))


@lexicon.command("test")
@click.argument("text")
@click.option("--lexicon", "lexicon_path", type=click.Path(dir_okay=False), help="Lexicon YAML (default: bundled).")
@click.option("--lang", "language", type=click.Choice(LANGUAGES), help="Only use the forms of this language.")
def test(text: str, lexicon_path: str | None, language: str | None) -> None:
    """Show the concepts TEXT would flag: per hit its form, the rule that let it count, its offset.

    Example: sahel lexicon test "Attaque du JNIM près de Tombouctou"
    """
    with user_errors():  # a LexiconError: one line naming the file, exit status 2
        lex = load_lexicon(lexicon_path)
    hits = lex.match(text, language=language)
    if not hits:
        click.echo("no concept flagged")
        return
    for hit in hits:
        label = lex.concepts[hit.concept].labels.get(language or "en", hit.concept)
        click.echo(f"{hit.concept} ({label}): {hit.form!r} x{hit.count} at offset {hit.first_offset}, {hit.rule}")
        click.echo(f"    {hit.snippet}")
