"""ISO 639 language codes: a survivor's languages decide who can interpret for them, so a
name typed in any language ("Bengali", "Bangla") is refused for the code everyone reads.

A language is given by its two-letter ISO 639-1 code (bn, ne, hi, ur) or, when it has
none, by the three-letter ISO 639-3 code of a living language (rhg Rohingya, syl Sylheti,
ctg Chittagonian, bho Bhojpuri). A three-letter code of a language that has a two-letter
one is read as the two-letter one (ben as bn), as BCP 47 writes it.
"""

from __future__ import annotations

from typing import Annotated

import pycountry
from pydantic import AfterValidator, WithJsonSchema

# Two-letter codes, each for one language.
TWO_LETTER: frozenset[str] = frozenset(
    lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")
)
# Every three-letter code that stands for a two-letter one.
_AS_TWO_LETTER: dict[str, str] = {
    lang.alpha_3: lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")
}
# Living individual languages and macrolanguages without a two-letter code.
THREE_LETTER: frozenset[str] = frozenset(
    lang.alpha_3
    for lang in pycountry.languages
    if not hasattr(lang, "alpha_2") and lang.type == "L" and lang.scope in ("I", "M")
)

ADVICE = (
    "give an ISO 639 code such as bn, ne, hi, ur (for a language without a two-letter "
    "code, its ISO 639-3 code, e.g. rhg for Rohingya)"
)


def language_code(value: str) -> str:
    """The code in its one accepted spelling; ValueError if it is not one."""
    code = value.strip().lower()
    code = _AS_TWO_LETTER.get(code, code)
    if code not in TWO_LETTER and code not in THREE_LETTER:
        # The value is not repeated: a mistyped field may hold personal data.
        raise ValueError(f"not a language code: {ADVICE}")
    return code


_SCHEMA = {
    "type": "string",
    "description": (
        "An ISO 639-1 language code (one of the listed two-letter codes, e.g. bn, ne, hi, "
        "ur) or, for a living language without one, its ISO 639-3 code (e.g. rhg, syl, "
        "ctg, bho). Names such as Bengali are refused."
    ),
    "anyOf": [
        {"enum": sorted(TWO_LETTER)},
        {"pattern": "^[a-z]{3}$"},
    ],
    "examples": ["bn", "ne", "hi", "ur", "rhg"],
}

LanguageCode = Annotated[str, AfterValidator(language_code), WithJsonSchema(_SCHEMA)]


# The languages Homeward speaks, on its pages and in its notifications, in the order a
# language menu offers them.
SPOKEN: tuple[str, ...] = ("en", "bn", "ne", "hi", "ur", "si", "ta")
# Scripts written right to left: the one list every page and message consults.
RIGHT_TO_LEFT: frozenset[str] = frozenset({"ur", "ar", "fa", "ps", "dv", "sd"})


def direction(code: str) -> str:
    return "rtl" if code in RIGHT_TO_LEFT else "ltr"


def spoken(code: str | None) -> str | None:
    """The spoken language a code stands for (bn-BD, ben and BN are bn), or None."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-")[0].lower()
    base = _AS_TWO_LETTER.get(base, base)
    return base if base in SPOKEN else None
