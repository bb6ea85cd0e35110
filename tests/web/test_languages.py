"""Each person's language on the pages: chosen and remembered, else their agency's, else
the browser's, else English; right to left for Urdu; numbers in the script's digits."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from core.db import engine_for
from core.settings import Settings
from models import Agency
from tests import factories
from tests.web.conftest import csrf_of, sign_in
from web.i18n import Speech


def html_tag(html: str) -> str:
    found = re.search(r"<html [^>]*>", html)
    assert found is not None
    return found.group(0)


def test_signed_out_the_browser_language_is_used_then_english(client: TestClient) -> None:
    assert 'lang="en" dir="ltr"' in html_tag(client.get("/login").text)
    nepali = client.get("/login", headers={"Accept-Language": "fr;q=0.9, ne-NP;q=0.8, en;q=0.5"})
    assert 'lang="ne"' in html_tag(nepali.text)
    assert nepali.headers["content-language"] == "ne"
    assert 'lang="en"' in html_tag(client.get("/login", headers={"Accept-Language": "fr"}).text)


def test_the_sign_in_page_offers_every_language_in_its_own_name(client: TestClient) -> None:
    page = client.get("/login").text
    for name in ("বাংলা", "नेपाली", "हिन्दी", "اردو", "සිංහල", "தமிழ்", "English"):
        assert name in page
    chosen = client.get("/language?lang=ur&next=/login")
    assert 'lang="ur" dir="rtl"' in html_tag(chosen.text)


def test_the_agency_language_then_the_persons_own_choice(
    client: TestClient, corridor: factories.Corridor, settings: Settings
) -> None:
    with Session(engine_for(settings.resolved_database_url)) as session:
        shelter = session.get_one(Agency, corridor.shelter.agency_id)
        shelter.language = "bn"
        session.add(shelter)
        session.commit()
    sign_in(client, corridor.shelter.username)
    inbox = client.get("/inbox", headers={"Accept-Language": "ta"})
    assert 'lang="bn" dir="ltr"' in html_tag(inbox.text)

    changed = client.post(
        "/language",
        data={"csrf": csrf_of(inbox.text), "language": "ur", "next": "/inbox"},
    )
    assert 'lang="ur" dir="rtl"' in html_tag(changed.text)
    # Remembered for the person, not the browser: another browser signs in to Urdu.
    other = TestClient(client.app)
    sign_in(other, corridor.shelter.username)
    assert 'lang="ur"' in html_tag(other.get("/inbox").text)
    assert client.post("/language", data={"language": "ur"}).status_code == 403


def test_a_language_homeward_does_not_speak_is_refused(
    client: TestClient, corridor: factories.Corridor
) -> None:
    sign_in(client, corridor.ngo.username)
    inbox = client.get("/inbox")
    refused = client.post("/language", data={"csrf": csrf_of(inbox.text), "language": "fr"})
    assert refused.status_code == 422
    assert "Homeward speaks en, bn, ne, hi, ur, si, ta" in refused.text


def test_numbers_group_and_take_the_scripts_digits_on_request() -> None:
    assert Speech("bn").number(1234567) == "12,34,567"
    assert Speech("bn", native_digits=True).number(1234567) == "১২,৩৪,৫৬৭"
    assert Speech("ne", native_digits=True).number(1234567) == "१२,३४,५६७"
    assert Speech("ur", native_digits=True).number(1234567) == "۱,۲۳۴,۵۶۷"  # noqa: RUF001
    assert Speech("ta").number(1234567) == "12,34,567"
    assert Speech("si").number(1234567) == "1,234,567"
    # Sinhala and Tamil are written with Latin digits today: no table, no change.
    assert Speech("si", native_digits=True).number(12) == "12"
    assert Speech("ur").digits("HW-2026") == "HW-2026"
