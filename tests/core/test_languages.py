"""ISO 639 language codes."""

from __future__ import annotations

import pytest

from core.languages import THREE_LETTER, TWO_LETTER, language_code


@pytest.mark.parametrize(
    ("given", "kept"),
    [("bn", "bn"), ("BN", "bn"), (" ne ", "ne"), ("ben", "bn"), ("urd", "ur"), ("rhg", "rhg")],
)
def test_codes_are_kept_in_their_shortest_spelling(given: str, kept: str) -> None:
    assert language_code(given) == kept


@pytest.mark.parametrize(
    "given", ["Bengali", "Bangla", "", "b", "xx", "zzz", "bn-BD", "grc", "und"]
)
def test_names_and_unknown_codes_are_refused(given: str) -> None:
    with pytest.raises(ValueError, match="ISO 639 code such as bn, ne, hi, ur") as refused:
        language_code(given)
    assert given not in str(refused.value) or len(given) < 2


def test_three_letter_codes_are_for_living_languages_without_a_two_letter_one() -> None:
    assert {"rhg", "syl", "ctg", "bho", "mai", "sat"} <= THREE_LETTER
    assert "ben" not in THREE_LETTER and "bn" in TWO_LETTER
