"""The languages the pages speak, which one each person gets, and the words in it.

Catalogs are `web/locale/<code>/LC_MESSAGES/homeward.po` (extracted from the templates and
`web/*.py` by `make messages`); they are compiled when first needed, in memory, so that a
corrected translation needs no build step. Numbers follow the locale's grouping (Babel:
12,34,567 in Bengali, Nepali, Hindi and Tamil) and, for those who ask, the script's own
digits."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from markupsafe import Markup

from core.languages import SPOKEN, direction, spoken

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "homeward"

LANGUAGES = SPOKEN
DEFAULT = "en"
# The script's own digits, where the language's usual script has them.
NATIVE_DIGITS: dict[str, str] = {
    "bn": "০১২৩৪৫৬৭৮৯",
    "ne": "०१२३४५६७८९",
    "hi": "०१२३४५६७८९",
    "ur": "۰۱۲۳۴۵۶۷۸۹",
}


def native_name(language: str) -> str:
    """A language named in itself (বাংলা, नेपाली, اردو), for the language menu."""
    return str(Locale.parse(language).get_display_name(language) or language)


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of a language; English (the source words) when it has none."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT or not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def from_accept_language(header: str | None) -> str | None:
    """The first language of an Accept-Language header the pages speak, by its weights."""
    if not header:
        return None
    weighted: list[tuple[float, int, str]] = []
    for place, part in enumerate(header.split(",")):
        code, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        weighted.append((-weight, place, code))
    for _weight, _place, code in sorted(weighted):
        found = spoken(code)
        if found:
            return found
    return None


def choose(*, chosen: str | None, agency: str | None, accept_language: str | None) -> str:
    """The person's own choice, else their agency's language, else the browser's, else
    English."""
    return spoken(chosen) or spoken(agency) or from_accept_language(accept_language) or DEFAULT


@dataclass(frozen=True)
class Speech:
    """What a page needs to speak one language: gettext as Jinja2's new style calls it
    (autoescaped, `%(name)s` filled from keywords), its direction and its numbers."""

    language: str
    native_digits: bool = False

    @property
    def direction(self) -> str:
        return direction(self.language)

    def gettext(self, message: str, **values: Any) -> str:
        text = translations(self.language).gettext(message)
        return _filled(text, values)

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = translations(self.language).ngettext(singular, plural, n)
        return _filled(text, {"num": self.number(n), **values})

    def number(self, value: int | float) -> str:
        try:
            text = format_decimal(value, locale=self.language)
        except UnknownLocaleError:
            text = str(value)
        return self.digits(text)

    def digits(self, text: str) -> str:
        """Latin digits as the script's own, for those who asked for them."""
        table = NATIVE_DIGITS.get(self.language)
        if not self.native_digits or table is None:
            return text
        return text.translate(str.maketrans("0123456789", table))

    def callables(self) -> dict[str, Callable[..., str]]:
        return {"_": self.gettext, "gettext": self.gettext, "ngettext": self.ngettext}


def _filled(text: str, values: dict[str, Any]) -> str:
    # As Jinja2's new-style gettext: the translation is trusted markup, the values are not.
    message = Markup(text)  # noqa: S704  (the catalogs are ours; the values are escaped)
    return message % values if values else message
