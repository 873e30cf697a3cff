"""The lexicon: loading and validation, matching rules, flagging in the crawl and the CLI."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.extract import ExtractionPipeline
from sahel_crawler.commands.lexicon import lexicon as lexicon_cli
from sahel_crawler.items import ArticleItem
from sahel_crawler.lexicon import LexiconError, article_text, flag_article, load_lexicon
from tests.conftest import project_crawler

LEX = load_lexicon()


def concepts(text: str, **kw) -> list[str]:
    return [h.concept for h in LEX.match(text, **kw)]


@pytest.mark.parametrize(
    "text",
    ["والطوارق", "بأزواد", "لأزواد", "وأزواد", "للطوارق", "فالطوارق", "الطوارق", "وبأزواد", "أَزْوَاد"],
)
def test_arabic_proclitics_and_diacritics_match(text):
    assert concepts(f"قال مسؤول إن {text} حاضرون") in (["tuareg"], ["azawad"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("مباراة نصرة الفريق", []),
        ("أعلنت جماعة نصرة الإسلام والمسلمين مسؤوليتها", ["jnim"]),
        ("قدمت الحكومة دعم مالي كبير لتحسين الوضع المالي", []),
        ("أعلن رئيس الوزراء بنيامين نتانياهو", []),
        ("مدينة الحديدة على الساحل الغربي", []),
        ("تعرض مقر قوة مجموعة دول الساحل الخمس في وسط مالي لهجوم", ["sahel", "mali"]),
        ("وصل الرئيس إلى نيامي", ["niamey"]),
        ("l’Azawad et d'Azawad", ["azawad"]),
        ("Attaque à TOMBOUCTOU et à Ménaka", ["timbuktu", "menaka"]),
        ("La Volkswagen Touareg est un SUV", []),
        ("Le sénateur Jaques Wagner a parlé", []),
        ("Oil spills in the Niger Delta", []),
        ("Gao Xiang met officials in Shanghai", []),
        ("A convoy was attacked near Gao in northern Mali", ["gao", "mali"]),
        ("the Somali coast and Malik's house", []),
        ("Jama’at Nusrat al-Islam wal-Muslimin", ["jnim"]),
    ],
)
def test_traps_and_true_mentions(text, expected):
    assert concepts(text) == expected


def test_nested_name_counts_for_the_outer_concept_only():
    assert concepts("la Mission multidimensionnelle intégrée des Nations unies pour la stabilisation au Mali") == [
        "minusma"
    ]
    hits = LEX.match("Le MNLA et le Mouvement national de libération de l'Azawad")
    assert [(h.concept, h.count, h.rule) for h in hits] == [("mnla", 2, "strong"), ("azawad", 2, "implied by mnla")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Le Front de libération de l’Azawad a revendiqué l'attaque.", {"fla", "azawad"}),
        ("الحركة الوطنية لتحرير أزواد", {"mnla", "azawad"}),
        ("جبهة تحرير أزواد", {"fla", "azawad"}),
        ("Le Cadre stratégique permanent a rejeté le texte.", {"csp", "azawad"}),
        ("طالبت الحركات الأزوادية بالحوار مع باماكو", {"azawad", "bamako"}),
        ("أعلنت جبهة أزواد وجماعة نصرة الإسلام والمسلمين تحالفا", {"fla", "azawad", "jnim"}),
        ("قال مسؤول طارقي وفرقة طوارقية", {"tuareg"}),
        ("قالت الحكومة المالية إن", {"mali"}),
        ("أعلنت وزارة المالية عن مساعدات مالية للنيجر", {"niger"}),
    ],
)
def test_implied_concepts_short_forms_and_nisba(text, expected):
    assert set(concepts(text)) == expected


def test_an_implied_hit_reuses_the_form_and_offset_of_the_concept_naming_it():
    fla, azawad = LEX.match("Hier, le Front de libération de l'Azawad a revendiqué l'attaque.")
    assert (fla.concept, fla.rule) == ("fla", "strong")
    assert (azawad.concept, azawad.rule) == ("azawad", "implied by fla")
    assert azawad.form == fla.form == "Front de libération de l'Azawad"
    assert azawad.first_offset == fla.first_offset == 9


def test_an_own_mention_is_kept_over_the_implied_one():
    hits = {h.concept: h for h in LEX.match("Le FLA contrôle Kidal. L'Azawad reste instable.")}
    assert hits["azawad"].rule == "strong" and hits["azawad"].form == "Azawad"
    assert hits["fla"].rule == "weak, with azawad"


def test_hit_reports_the_original_text():
    text = "Selon l'AFP,  les   combattants du JNIM ont attaqué Tombouctou. Le JNIM dément."
    hits = {h.concept: h for h in LEX.match(text)}
    jnim = hits["jnim"]
    assert jnim.count == 2
    assert text[jnim.first_offset : jnim.first_offset + len(jnim.form)] == "JNIM"
    assert "combattants du JNIM ont attaqué" in jnim.snippet
    assert "  " not in jnim.snippet


def test_arabic_form_is_the_word_as_written():
    text = "وقالت مصادر إنّ وَالطَّوارِق انسحبوا"
    (hit,) = LEX.match(text)
    assert hit.form == "وَالطَّوارِق"
    assert text[hit.first_offset :].startswith(hit.form)


def test_language_restricts_forms():
    assert concepts("Tombouctou", language="fr") == ["timbuktu"]
    assert concepts("Tombouctou", language="ar") == []
    assert concepts("Tombouctou", language="xx") == ["timbuktu"]


def test_flag_article_offsets_refer_to_title_plus_text():
    hits = flag_article(LEX, "Kidal", "Des combats à Gao, au Mali.")
    full = article_text("Kidal", "Des combats à Gao, au Mali.")
    assert [h.concept for h in hits] == ["kidal", "gao", "mali"]
    for h in hits:
        assert full[h.first_offset :].startswith(h.form)


def test_version_is_stable_and_tracks_content(tmp_path):
    assert load_lexicon().version == LEX.version
    src = Path(LEX.source).read_text(encoding="utf-8")
    changed = tmp_path / "lex.yaml"
    changed.write_text("# a comment\n" + src, encoding="utf-8")
    assert load_lexicon(changed).version == LEX.version
    changed.write_text(src.replace("forms: {ar: [باماكو], fr: [Bamako]", "forms: {ar: [باماكو], fr: [Bamako, Bko]"))
    assert load_lexicon(changed).version != LEX.version


MINIMAL = """
concepts:
  - id: kidal
    category: place
    labels: {ar: كيدال, fr: Kidal, en: Kidal}
    forms: {fr: [Kidal]}
"""


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("category: place", "category: Place!", "category"),
        ("labels: {ar: كيدال, fr: Kidal, en: Kidal}", "labels: {fr: Kidal}", "labels"),
        ("forms: {fr: [Kidal]}", "forms: {de: [Kidal]}", "forms.de"),
        ("forms: {fr: [Kidal]}", "forms: {fr: [{form: Kidal, needs: [gao]}]}", "forms.fr.needs"),
        ("forms: {fr: [Kidal]}", "forms: {fr: [{form: Kidal, weak: true, needs: [gao]}]}", "needs"),
        ("forms: {fr: [Kidal]}", "forms: {fr: ['']}", "forms.fr.form"),
        ("    forms:", "    colour: red\n    forms:", "colour"),
        ("    forms:", "    implies: [gao]\n    forms:", "implies"),
        ("    forms:", "    implies: kidal\n    forms:", "implies"),
        ("    forms:", "    implies: [kidal]\n    forms:", "implies"),
    ],
)
def test_invalid_lexicon_names_file_concept_and_key(tmp_path, old, new, key):
    path = tmp_path / "bad.yaml"
    path.write_text(MINIMAL.replace(old, new), encoding="utf-8")
    with pytest.raises(LexiconError) as info:
        load_lexicon(path)
    message = str(info.value)
    assert str(path) in message and "'kidal'" in message and f"'{key}'" in message


def test_implies_cycle_is_an_error(tmp_path):
    path = tmp_path / "cycle.yaml"
    second = MINIMAL.split("concepts:\n")[1].replace("kidal", "gao").replace("Kidal", "Gao")
    text = MINIMAL.replace("    forms:", "    implies: [gao]\n    forms:", 1) + second.replace(
        "    forms:", "    implies: [kidal]\n    forms:"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError, match="'implies': cycle"):
        load_lexicon(path)


def test_duplicate_concept_is_an_error(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(MINIMAL + MINIMAL.split("concepts:\n")[1], encoding="utf-8")
    with pytest.raises(LexiconError, match="defined twice"):
        load_lexicon(path)


def test_cli_check_and_test(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(lexicon_cli, ["check"])
    assert ok.exit_code == 0 and "OK" in ok.output and str(len(LEX.concepts)) in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("category: place", "category: 7"), encoding="utf-8")
    result = runner.invoke(lexicon_cli, ["check", str(bad)])
    assert result.exit_code == 2
    assert "bad.yaml" in result.output and "'kidal'" in result.output and "'category'" in result.output
    shown = runner.invoke(lexicon_cli, ["test", "Attaque du JNIM près de Tombouctou", "--lang", "fr"])
    assert shown.exit_code == 0
    assert "jnim" in shown.output and "timbuktu" in shown.output and "Tombouctou" in shown.output
    rules = runner.invoke(lexicon_cli, ["test", "Le Front de libération de l'Azawad tient Kidal. À Gao, le FLA."])
    assert rules.exit_code == 0
    lines = [line for line in rules.output.splitlines() if not line.startswith(" ")]
    assert lines == [
        'fla (Azawad Liberation Front (FLA)): "Front de libération de l\'Azawad" x2 at offset 3, strong',
        'azawad (Azawad): "Front de libération de l\'Azawad" x2 at offset 3, implied by fla',
        "kidal (Kidal): 'Kidal' x1 at offset 41, strong",
        "gao (Gao): 'Gao' x1 at offset 50, weak, confirmed by 'À Gao'",
    ]
    none = runner.invoke(lexicon_cli, ["test", "Rien à signaler", "--lexicon", str(Path(LEX.source))])
    assert none.exit_code == 0 and "no concept" in none.output


def _extraction_stage(**settings: object) -> ExtractionPipeline:
    return ExtractionPipeline.from_crawler(project_crawler(settings_dict={"SAHEL_EXTRACT_WORKERS": 0, **settings}))


def _page_item(title: str, text: str) -> ArticleItem:
    head = f"<head><title>{title}</title></head>"
    html = f"<html>{head}<body><article><h1>{title}</h1><p>{text}</p></article></body></html>"
    return ArticleItem(url="https://example.org/a", outlet="x", html=html, fetched_at=datetime.now(UTC))


def test_extraction_stage_sets_hits_and_version():
    pipeline = _extraction_stage(SAHEL_LEXICON_PATH=None, SAHEL_MIN_TEXT_CHARS=10)
    body = "أعلنت جماعة نصرة الإسلام والمسلمين مسؤوليتها عن الهجوم على قاعدة عسكرية. " * 3
    item = asyncio.run(pipeline.process_item(_page_item("هجوم في كيدال شمال مالي", body)))
    assert [hit["concept"] for hit in item.keyword_hits] == ["kidal", "mali", "jnim"]
    assert item.lexicon_version == LEX.version
    assert set(item.keyword_hits[0]) == {f.name for f in dataclasses.fields(LEX.match("Kidal")[0])}


def test_flagging_can_be_disabled_and_a_bad_lexicon_stops_the_crawl(tmp_path):
    pipeline = _extraction_stage(SAHEL_KEYWORDS_ENABLED=False, SAHEL_MIN_TEXT_CHARS=10)
    page = _page_item("هجوم في كيدال شمال مالي", "جماعة نصرة الإسلام والمسلمين. " * 5)
    item = asyncio.run(pipeline.process_item(page))
    assert item.text and item.keyword_hits == [] and item.lexicon_version is None
    bad = tmp_path / "bad.yaml"
    bad.write_text("concepts: nope", encoding="utf-8")
    with pytest.raises(LexiconError):
        _extraction_stage(SAHEL_LEXICON_PATH=str(bad))
