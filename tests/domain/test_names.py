"""Name folding and matching for duplicate registrations, tested without a database."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.names import (
    MATCH_THRESHOLD,
    name_similarity,
    names_match,
    normalise_name,
    word_similarity,
)

# (given, family) pairs for one person written by two different people.
SAME_PERSON = [
    (("Mohammad", "Rahman"), ("Mohammed", "Rahaman")),
    (("Md.", "Rahman"), ("Muhammad", "Rahman")),
    (("Sita", "Tamang"), ("Seeta", "Tamang")),
    (("Lakshmi", "Shrestha"), ("Laxmi", "Shresta")),
    (("Ashraful", "Islam"), ("Ashraful", "Eslam")),
    (("Nasima", "Akter"), ("Nasima", "Akhter")),
    (("Rokeya", "Khatun"), ("Rokeya", "Khatoon")),
    (("Abdul", "Hossain"), ("Abdul", "Hussain")),
    (("Pooja", "Chaudhary"), ("Puja", "Choudhury")),
    (("Shahnaz", "Begum"), ("Shahnaj", "Begam")),
    (("Rahman", "Mohammad"), ("Mohammad", "Rahman")),
    (("Fatema", "Begum"), ("Fatima", "Begum")),
    (("Gita", "Gurung"), ("Geeta", "Gurung")),
    (("Mohammad Abdur", "Rahman"), ("Mohammad", "Rahman")),
]

DIFFERENT_PEOPLE = [
    (("Sita", "Tamang"), ("Gita", "Tamang")),
    (("Mohammad", "Rahman"), ("Mohammad", "Rahim")),
    (("Rina", "Akter"), ("Mina", "Akter")),
    (("Abdul", "Karim"), ("Abdul", "Rahim")),
    (("Sunita", "Rai"), ("Sunil", "Rai")),
    (("Fatema", "Begum"), ("Salma", "Begum")),
    (("Ram", "Thapa"), ("Hari", "Thapa")),
    (("Nasrin", "Sultana"), ("Nasima", "Sultana")),
]


def _ids(pairs: list[tuple[tuple[str, str], tuple[str, str]]]) -> list[str]:
    return [f"{' '.join(a)} / {' '.join(b)}" for a, b in pairs]


@pytest.mark.parametrize(("a", "b"), SAME_PERSON, ids=_ids(SAME_PERSON))
def test_romanisations_of_one_name_match(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert names_match(*a, *b)
    assert names_match(*b, *a)
    assert name_similarity(" ".join(a), " ".join(b)) >= MATCH_THRESHOLD


@pytest.mark.parametrize(("a", "b"), DIFFERENT_PEOPLE, ids=_ids(DIFFERENT_PEOPLE))
def test_different_names_do_not_match(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert not names_match(*a, *b)
    assert not names_match(*b, *a)
    assert name_similarity(" ".join(a), " ".join(b)) < MATCH_THRESHOLD


@pytest.mark.parametrize(
    ("variants", "key"),
    [
        (["Md.", "MD", "Mohd", "Mohammad", "Mohammed", "Muhammad", "Mohamed"], "muhammad"),
        (["Rahman", "Ur-Rahman", "Urrahman", "ur Rahman"], "rahman"),
        (["Abdul", "Abdur", "Abdus"], "abdul"),
        (["Abdullah", "Abdulla"], "abdullah"),
        (["Rama", "Ram", "Raam"], "ram"),
        (["Lakshmi", "Laxmi", "Laksmi"], "laksmi"),
        (["Shahnaz", "Shahnaj", "Sahnaz"], "sahnaj"),
        (["Khatun", "Khatoon"], "katun"),
        (["Chowdhury", "Choudhury", "Chaudhury"], "cuduri"),
        (["Vikram", "Bikram", "Wikram"], "bikram"),
        (["Al-Amin", "Al Amin", "Alamin"], "alamin"),
        (["Mst. Nasima", "Mosammat Nasima", "Nasima"], "nasim"),
        (["Sri Ram", "Shree Ram", "Ram"], "ram"),
        (["José", "JOSE", "jose"], "jose"),
    ],
)
def test_variants_fold_to_one_key(variants: list[str], key: str) -> None:
    assert {normalise_name(variant) for variant in variants} == {key}


def test_compound_article_names_split_and_join() -> None:
    assert normalise_name("Abdurrahman") == normalise_name("Abdur Rahman") == "abdul rahman"
    assert normalise_name("Abdulkarim") == "abdul karim"
    assert normalise_name("Mizan Ur Rahman") == normalise_name("Mizanur Rahman")
    # Too little is left after the article to be a name: kept whole.
    assert normalise_name("Uzzal") == normalise_name("Ujjal")


def test_mahmud_is_not_muhammad() -> None:
    assert normalise_name("Mahmud") != "muhammad"
    assert not names_match("Mahmud", "Hasan", "Muhammad", "Hasan")


def test_honorifics_particles_and_initials_are_dropped() -> None:
    assert normalise_name("Dr. Ahmad bin Ali") == "ahmad ali"
    assert normalise_name("Smt. Sunita Devi") == "sunit debi"
    assert normalise_name("A. K. M. Fazlul Haque") == "fajlul hak"
    assert normalise_name("  ") == ""
    assert normalise_name("Mr.") == ""


def test_kumari_and_devi_are_kept_but_may_be_missing() -> None:
    assert normalise_name("Sita Kumari") == "sit kumari"
    assert names_match("Sita Kumari", "Tamang", "Sita", "Tamang")
    assert not names_match("Sita Kumari", "Tamang", "Gita Kumari", "Tamang")


def test_names_written_together_or_apart_match() -> None:
    assert names_match("Nur Jahan", "Begum", "Nurjahan", "Begum")
    assert names_match("Jasim", "Uddin", "Jasimuddin", "")


def test_a_common_word_alone_does_not_match_a_fuller_name() -> None:
    assert not names_match("", "Begum", "Rokeya", "Begum")
    assert not names_match("Md.", "", "Mohammad", "Rahman")
    assert names_match("", "Rahman", "Md.", "Rahman")


def test_at_most_two_words_may_be_missing() -> None:
    assert names_match("Mohammad Habibur", "Rahman Khan", "Mohammad", "Rahman")
    assert not names_match("Mohammad Habibur Rahman", "Khan Chowdhury", "Mohammad", "Rahman")


def test_short_names_tolerate_only_close_vowels() -> None:
    assert names_match("Runa", "Akter", "Rona", "Akter")
    assert not names_match("Rina", "Akter", "Runa", "Akter")
    assert not names_match("Rani", "Akter", "Rina", "Akter")


def test_names_in_another_script_compare_exactly() -> None:
    assert normalise_name("সীতা তামাং") == "সীতা তামাং"
    assert names_match("সীতা", "তামাং", "সীতা", "তামাং")
    assert names_match("তামাং", "সীতা", "সীতা", "তামাং")
    assert not names_match("সীতা", "তামাং", "গীতা", "তামাং")
    assert not names_match("सीता", "तामाङ", "Sita", "Tamang")
    # Joiners and decomposed marks do not change a word.
    assert normalise_name("क्\u200dष") == normalise_name("क्ष")
    decomposed = unicodedata.normalize("NFD", "রোকেয়া")
    assert normalise_name(decomposed) == normalise_name("রোকেয়া")


def test_blank_names_match_nothing() -> None:
    assert not names_match("", "", "", "")
    assert not names_match("", "", "Sita", "Tamang")
    assert name_similarity("", "") == 0.0


def test_word_similarity_is_at_threshold_exactly_when_words_match() -> None:
    assert word_similarity("rahman", "rahman") == 1.0
    assert word_similarity("rahman", "rahaman") >= MATCH_THRESHOLD
    assert word_similarity("rahman", "rahim") < MATCH_THRESHOLD
    assert word_similarity("sit", "git") < MATCH_THRESHOLD


# Latin names with the letters, accents and separators records really contain.
_LATIN_NAME = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzáéíóúāīūñçöüABCDEFGHKMNRSTZ .-'")),
    max_size=30,
)
_ANY_TEXT = st.text(max_size=60)
_SCRIPTS = st.text(
    alphabet=st.sampled_from(
        list("সীতারোকেয়াখাতুন্") + list("सीताक्षगुरुङ") + list("😀 .-") + ["\u200d", "\u200c"]
    ),
    max_size=30,
)
_NAME = st.one_of(_LATIN_NAME, _ANY_TEXT, _SCRIPTS)


@settings(max_examples=300, deadline=None)
@given(_NAME)
def test_normalise_name_is_idempotent(name: str) -> None:
    key = normalise_name(name)
    assert normalise_name(key) == key


@settings(max_examples=200, deadline=None)
@given(_LATIN_NAME)
def test_normalise_name_ignores_case_spacing_and_accents(name: str) -> None:
    key = normalise_name(name)
    assert normalise_name(name.upper()) == key
    assert normalise_name(name.lower()) == key
    assert normalise_name(f"  {name.replace(' ', '   ')}\t") == key
    stripped = "".join(
        char for char in unicodedata.normalize("NFKD", name) if not unicodedata.combining(char)
    )
    assert normalise_name(stripped) == key


@settings(max_examples=150, deadline=None)
@given(_NAME, _NAME, _NAME, _NAME)
def test_names_match_is_symmetric(a1: str, a2: str, b1: str, b2: str) -> None:
    assert names_match(a1, a2, b1, b2) == names_match(b1, b2, a1, a2)
    similarity = name_similarity(f"{a1} {a2}", f"{b1} {b2}")
    assert 0.0 <= similarity <= 1.0
    assert similarity == pytest.approx(name_similarity(f"{b1} {b2}", f"{a1} {a2}"))


@settings(max_examples=150, deadline=None)
@given(_NAME, _NAME)
def test_names_match_is_reflexive_for_non_blank_names(given_name: str, family: str) -> None:
    if given_name.strip() or family.strip():
        assert names_match(given_name, family, given_name, family)


@settings(max_examples=150, deadline=None)
@given(_NAME, _NAME)
def test_a_name_matches_its_own_normal_form(given_name: str, family: str) -> None:
    key = normalise_name(f"{given_name} {family}")
    if key:
        assert names_match(given_name, family, key, "")
