"""Arabic normalisation and matching folds: behaviour and properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sahel_crawler.lexicon import load_lexicon
from sahel_crawler.text.arabic import normalize_arabic, normalize_arabic_mapped
from sahel_crawler.text.fold import fold

LEXICON = load_lexicon()
DIACRITICS = [chr(c) for c in range(0x064B, 0x0653)] + ["\u0670", "\u0640"]
ARABIC_TEXT = st.text(
    alphabet=st.sampled_from(list("ابتثجحخدذرسشصضطظعغفقكلمنهويءأإآٱىةؤئ ٠١٢٣٤٥٦٧٨٩،.") + DIACRITICS + list("aZé’ \n")),
    max_size=80,
)


def test_folds_spelling_variants():
    assert normalize_arabic("أَزْوَاد") == "ازواد"
    assert normalize_arabic("مـــالي") == "مالي"
    assert normalize_arabic("إلى") == normalize_arabic("الي")
    assert normalize_arabic("نصرة") == "نصره"
    assert normalize_arabic("٢٠١٨") == "2018"


@given(ARABIC_TEXT)
def test_normalisation_is_idempotent(text):
    once = normalize_arabic(text)
    assert normalize_arabic(once) == once
    folded = fold(text).text
    assert fold(folded).text == folded


@given(ARABIC_TEXT)
def test_offsets_map_back_inside_the_original(text):
    for mapped, norm in ((normalize_arabic_mapped(text), normalize_arabic), (fold(text), lambda c: fold(c).text)):
        offsets = mapped.offsets()
        assert offsets == sorted(set(offsets))
        for i, o in enumerate(offsets):
            assert 0 <= o < len(text)
            # the original character there normalises to the normalised one
            assert norm(text[o]) == mapped.text[i]
    assert normalize_arabic_mapped(text).text == normalize_arabic(text)


@given(
    st.sampled_from(["والطوارق", "بأزواد", "كيدال", "تمبكتو", "جماعة نصرة الإسلام والمسلمين", "باماكو"]),
    st.lists(st.sampled_from(DIACRITICS), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
)
def test_diacritics_never_change_a_match(word, marks, rnd):
    text = f"قال مصدر إن {word} في مالي."
    chars = list(text)
    for mark in marks:
        chars.insert(rnd.randint(1, len(chars)), mark)
    decorated = "".join(chars)
    plain = [(h.concept, h.count) for h in LEXICON.match(text)]
    marked = LEXICON.match(decorated)
    assert [(h.concept, h.count) for h in marked] == plain
    for hit in marked:
        assert decorated[hit.first_offset : hit.first_offset + len(hit.form)] == hit.form
        assert normalize_arabic(hit.form).replace(" ", "") in normalize_arabic(decorated).replace(" ", "")


def test_every_kind_of_white_space_folds_to_a_plain_space():
    from sahel_crawler.text.fold import WHITESPACE_END

    assert not any(chr(cp).isspace() for cp in range(WHITESPACE_END, 0x110000))
    spaces = "".join(chr(cp) for cp in range(WHITESPACE_END) if chr(cp).isspace() and cp != 0x20)
    assert fold(f"Mali{spaces}Niger").text == "mali niger"
