"""Agencies' notification URLs: only mail, SMS, chat and webhook schemes Apprise can read."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from apprise.manager_plugins import NotificationManager
from fastapi.testclient import TestClient
from pydantic import ValidationError

from domain.agencies import NOTIFY_SCHEMES, NewAgency
from tests.api import expect
from tests.factories import Corridor

# "Zzyzx" marks the secret part of each URL: it must never come back in a response or a log.
ACCEPTED: dict[str, str] = {
    "mailto": "mailto://hook-user:Zzyzx-Secret-pw@mail.example.org",
    "mailtos": "mailtos://hook-user:Zzyzx-Secret-pw@mail.example.org?to=desk@example.org",
    "twilio": "twilio://AC0123456789abcdef0123456789abcdef:Zzyzx0123456789abcdef0123456789ab"
    "@+15551234567/+15557654321",
    "vonage": "vonage://Zzyzx123:ZzyzxSecret@15551234567/15557654321",
    "nexmo": "nexmo://Zzyzx123:ZzyzxSecret@15551234567/15557654321",
    "sns": "sns://AKIAZZYZXSECRET/Zzyzx-Secret-key/us-east-1/+15551234567",
    "msg91": "msg91://Zzyzxtemplate@ZzyzxSecretauthkey/15551234567",
    "clickatell": "clickatell://Zzyzx-Secret-key/15551234567",
    "bulksms": "bulksms://hook-user:Zzyzx-Secret@15551234567",
    "d7sms": "d7sms://Zzyzx-Secret@15551234567",
    "plivo": "plivo://ZZYZXSECRETAUTHID1234@ZzyzxSecretToken0123456789abcdef01"
    "/15551234567/15557654321",
    "sinch": "sinch://abcdef0123456789:fedcba9876543210@15551234567/15557654321",
    "smseagle": "smseagle://Zzyzx-Secret@sms.example.org/15551234567",
    "smseagles": "smseagles://Zzyzx-Secret@sms.example.org/15551234567",
    "httpsms": "httpsms://Zzyzx-Secret@15551234567/15557654321",
    "signal": "signal://signal.example.org/+15551234567/+15557654321",
    "signals": "signals://signal.example.org/+15551234567/+15557654321",
    "tgram": "tgram://123456:Zzyzx-Secret-bot-token/987654",
    "slack": "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
    "matrix": "matrix://hook-user:Zzyzx-Secret@matrix.example.org/#homeward",
    "matrixs": "matrixs://hook-user:Zzyzx-Secret@matrix.example.org/#homeward",
    "whatsapp": "whatsapp://ZzyzxSecretToken@123456789/15551234567",
    "discord": "discord://123456789/Zzyzx-Secret-webhook-token",
    "mmost": "mmost://chat.example.org/Zzyzx-Secret-token",
    "mmosts": "mmosts://chat.example.org/Zzyzx-Secret-token",
    "rocket": "rocket://hook-user:Zzyzx-Secret@chat.example.org/#homeward",
    "rockets": "rockets://hook-user:Zzyzx-Secret@chat.example.org/#homeward",
    "zulip": "zulip://homeward-bot@example.zulipchat.com/ZzyzxSecretToken0123456789abcdef",
    "ntfy": "ntfy://homeward-Zzyzx-Secret",
    "ntfys": "ntfys://ntfy.example.org/homeward-Zzyzx-Secret",
    "gotify": "gotify://gotify.example.org/Zzyzx-Secret",
    "gotifys": "gotifys://gotify.example.org/Zzyzx-Secret",
    "json": "json://hook-user:Zzyzx-Secret@notify.example.org/homeward",
    "jsons": "jsons://hook-user:Zzyzx-Secret@notify.example.org/homeward",
    "form": "form://hook-user:Zzyzx-Secret@notify.example.org/homeward",
    "forms": "forms://hook-user:Zzyzx-Secret@notify.example.org/homeward",
    "xml": "xml://hook-user:Zzyzx-Secret@notify.example.org/homeward",
    "xmls": "xmls://hook-user:Zzyzx-Secret@notify.example.org/homeward",
}

# (URL, what the refusal names) for URLs whose scheme is not allowed.
REFUSED_SCHEMES: list[tuple[str, str]] = [
    ("file:///home/Zzyzx-Secret/.ssh/id_ed25519", "scheme 'file'"),
    ("windows://Zzyzx-Secret", "scheme 'windows'"),
    ("dbus://Zzyzx-Secret", "scheme 'dbus'"),
    ("syslog://Zzyzx-Secret@localhost", "scheme 'syslog'"),
    ("macosx://Zzyzx-Secret", "scheme 'macosx'"),
    ("rsyslog://Zzyzx-Secret@localhost", "scheme 'rsyslog'"),
    ("gnome://Zzyzx-Secret", "scheme 'gnome'"),
    ("gopher://hook-user:Zzyzx-Secret@example.org", "scheme 'gopher'"),
    ("HTTP://hook-user:Zzyzx-Secret@example.org", "scheme 'http'"),
    ("zzyzxsecretzzyzxsecretzzyzx://example.org", "this scheme"),
]
# Not URLs at all, or a scheme with nothing after it. (A URL of an allowed scheme that the
# service would not accept is found at the first send and shows as a failed notification.)
UNREADABLE: list[tuple[str, str]] = [
    ("hook-user:Zzyzx-Secret@notify.example.org", "scheme"),
    ("mailto:Zzyzx-Secret@example.org", "scheme"),
]


def _agency(*notify_urls: str) -> dict[str, Any]:
    return {"name": "Sanlaap", "kind": "ngo", "country": "IN", "notify_urls": list(notify_urls)}


def _agency_ids(client: TestClient, corridor: Corridor) -> set[str]:
    response = client.get("/api/v1/agencies", headers=corridor.admin.headers)
    assert response.status_code == 200, response.text
    return {a["id"] for a in response.json()}


def _assert_hidden(text: str, url: str) -> None:
    assert "Zzyzx-Secret" not in text
    assert "zzyzxsecret" not in text.lower()
    assert url not in text
    assert url.split("://", 1)[-1] not in text


def test_every_allowed_scheme_is_an_enabled_apprise_plugin() -> None:
    plugins = NotificationManager()
    enabled = {scheme for scheme in plugins.schemas() if plugins[scheme].enabled}
    allowed: set[str] = set().union(*NOTIFY_SCHEMES.values())

    assert allowed <= enabled, allowed - enabled
    assert allowed == set(ACCEPTED)
    assert set(NOTIFY_SCHEMES) == {"mail", "SMS", "chat", "webhook"}


@pytest.mark.parametrize("scheme", sorted(ACCEPTED))
def test_each_allowed_scheme_is_accepted(scheme: str) -> None:
    agency = NewAgency.model_validate(_agency(ACCEPTED[scheme]))

    assert agency.notify_urls == [ACCEPTED[scheme]]


@pytest.mark.parametrize(("url", "named"), REFUSED_SCHEMES + UNREADABLE)
def test_each_refused_url_is_named_by_position_never_quoted(url: str, named: str) -> None:
    with pytest.raises(ValidationError) as refused:
        NewAgency.model_validate(_agency(ACCEPTED["json"], url))

    (error,) = refused.value.errors()
    assert error["loc"] == ("notify_urls", 1)
    assert named in error["msg"]
    _assert_hidden(error["msg"], url)


def test_the_api_refuses_local_and_unknown_schemes_without_echoing_the_url(
    client: TestClient, corridor: Corridor
) -> None:
    before = _agency_ids(client, corridor)
    for url, named in REFUSED_SCHEMES:
        response = client.post(
            "/api/v1/agencies",
            json=_agency("mailto://desk:pw@mail.example.org", url),
            headers=corridor.admin.headers,
        )

        detail = expect.error(response, 422)
        assert detail.startswith(f"notify_urls.1: {named} is not allowed"), detail
        assert "mail, SMS, chat" in detail
        _assert_hidden(response.text, url)
    assert _agency_ids(client, corridor) == before


def test_the_api_refuses_what_is_not_a_notification_url(
    client: TestClient, corridor: Corridor
) -> None:
    before = _agency_ids(client, corridor)
    for url, named in UNREADABLE:
        response = client.post(
            "/api/v1/agencies", json=_agency(url), headers=corridor.admin.headers
        )

        detail = expect.error(response, 422)
        assert detail.startswith("notify_urls.0: "), detail
        assert named in detail
        _assert_hidden(response.text, url)
    assert _agency_ids(client, corridor) == before


def test_a_bare_scheme_is_refused(client: TestClient, corridor: Corridor) -> None:
    response = client.post(
        "/api/v1/agencies", json=_agency("json://"), headers=corridor.admin.headers
    )
    assert "names no target" in expect.error(response, 422)


def test_refusals_log_no_part_of_the_url(
    client: TestClient, corridor: Corridor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for url, _ in REFUSED_SCHEMES + UNREADABLE:
        response = client.post(
            "/api/v1/agencies", json=_agency(url), headers=corridor.admin.headers
        )
        expect.error(response, 422)

    for url, _ in REFUSED_SCHEMES + UNREADABLE:
        _assert_hidden(caplog.text, url)


def test_the_api_accepts_each_family_of_schemes(client: TestClient, corridor: Corridor) -> None:
    families = {
        "mail": ACCEPTED["mailtos"],
        "SMS": ACCEPTED["twilio"],
        "chat": ACCEPTED["tgram"],
        "webhook": ACCEPTED["json"],
    }
    for family, url in families.items():
        response = client.post(
            "/api/v1/agencies",
            json={**_agency(url), "name": f"Sanlaap ({family})"},
            headers=corridor.admin.headers,
        )

        assert response.status_code == 201, f"{family}: {response.text}"
        assert response.json()["has_notify_urls"] is True
        _assert_hidden(response.text, url)
    every = client.post(
        "/api/v1/agencies",
        json={**_agency(*families.values(), " form://notify.example.org/hook "), "name": "All"},
        headers=corridor.admin.headers,
    )
    assert every.status_code == 201, every.text
