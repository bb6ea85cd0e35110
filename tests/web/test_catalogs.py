"""Each language catalog there is: complete, its placeholders intact, its plural forms
Babel's, its glossary written. A spoken language without a catalog reads in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from web.i18n import LANGUAGES, LOCALE_DIR, Speech

PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")
TRANSLATED = [
    code
    for code in LANGUAGES
    if code != "en" and (LOCALE_DIR / code / "LC_MESSAGES" / "homeward.po").exists()
]


def catalog_of(language: str):  # type: ignore[no-untyped-def]
    path = LOCALE_DIR / language / "LC_MESSAGES" / "homeward.po"
    with path.open("rb") as source:
        return read_po(source, locale=language)


def template_words() -> set[str]:
    with (LOCALE_DIR / "homeward.pot").open("rb") as source:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(source) if m.id}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_word_is_translated_with_its_placeholders(language: str) -> None:
    catalog = catalog_of(language)
    missing, broken = [], []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            missing.append(ids[0])
            continue
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            if set(PLACEHOLDER.findall(text)) != wanted:
                broken.append(ids[0])
    assert not missing, f"{language}: {len(missing)} untranslated, e.g. {missing[:3]}"
    assert not broken, f"{language}: placeholders changed in {broken[:3]}"
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert template_words() <= ids, f"{language}: run `make messages`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_plural_forms_are_the_languages_own(language: str) -> None:
    catalog = catalog_of(language)
    assert catalog.plural_expr == get_plural(language).plural_expr
    assert catalog.num_plurals == get_plural(language).num_plurals == 2


def test_the_glossaries_name_every_domain_word() -> None:
    words = [
        "case",
        "survivor",
        "consulate",
        "travel permit",
        "shelter",
        "escort",
        "handover",
        "follow-up",
        "consent",
        "legal hold",
    ]
    for language in TRANSLATED:
        glossary = Path(__file__).parents[2] / "docs" / "glossary" / f"{language}.md"
        text = glossary.read_text(encoding="utf-8").lower()
        absent = [w for w in words if w not in text]
        assert not absent, f"{language} glossary lacks {absent}"


def test_a_translated_page_word_and_its_numbers() -> None:
    bengali = Speech("bn", native_digits=True)
    assert bengali.gettext("Inbox") != "Inbox"
    assert bengali.number(1234567) == "১২,৩৪,৫৬৭"
    assert Speech("hi").number(1234567) == "12,34,567"
    assert Speech("ur").number(1234567) == "1,234,567"
    assert Speech("ur").direction == "rtl" and Speech("ta").direction == "ltr"
