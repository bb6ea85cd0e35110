"""Registering and listing agencies."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.api import expect
from tests.factories import Corridor

SECRET_URL = "tgram://123456:Zzyzx-Secret-bot-token/987654"


def _agencies(client: TestClient, corridor: Corridor) -> list[dict[str, Any]]:
    response = client.get("/api/v1/agencies", headers=corridor.ngo.headers)
    assert response.status_code == 200, response.text
    agencies: list[dict[str, Any]] = response.json()
    return agencies


def test_admin_registers_an_agency_whose_notify_urls_are_never_returned(
    client: TestClient, corridor: Corridor
) -> None:
    response = client.post(
        "/api/v1/agencies",
        json={
            "name": "Nepal Embassy New Delhi",
            "kind": "consulate",
            "country": "in",
            "nationality_served": "NP",
            "notify_urls": [SECRET_URL],
            "language": "ne",
        },
        headers=corridor.admin.headers,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert uuid.UUID(body["id"])
    assert body["kind"] == "consulate"
    assert body["country"] == "IN"
    assert body["nationality_served"] == "NP"
    assert body["has_notify_urls"] is True
    assert "notify_urls" not in body
    assert "Zzyzx-Secret" not in response.text
    assert body["id"] in {a["id"] for a in _agencies(client, corridor)}


def test_any_logged_in_user_lists_agencies_without_notify_urls(
    client: TestClient, corridor: Corridor
) -> None:
    expected = {str(m.agency_id) for m in corridor.members.values()}
    for name, member in corridor.members.items():
        response = client.get("/api/v1/agencies", headers=member.headers)

        assert response.status_code == 200, f"{name}: {response.text}"
        assert {a["id"] for a in response.json()} == expected
        assert all("notify_urls" not in a for a in response.json())
        assert "hook-secret" not in response.text
        assert "notify.example.org" not in response.text


def test_only_an_admin_registers_an_agency(client: TestClient, corridor: Corridor) -> None:
    before = _agencies(client, corridor)
    body = {"name": "Another NGO", "kind": "ngo", "country": "BD"}
    for member in (corridor.ngo, corridor.consulate, corridor.shelter, corridor.escort):
        response = client.post("/api/v1/agencies", json=body, headers=member.headers)

        expect.error(response, 403)
    assert _agencies(client, corridor) == before


def test_agency_registration_refuses_incomplete_or_unknown_data(
    client: TestClient, corridor: Corridor
) -> None:
    before = _agencies(client, corridor)
    base = {"name": "Zzyzx-Secret Agency", "country": "IN", "notify_urls": [SECRET_URL]}
    invalid: list[tuple[dict[str, Any], str]] = [
        ({**base, "kind": "consulate"}, "nationality_served"),
        ({**base, "kind": "shelter"}, "capacity"),
        ({**base, "kind": "ngo", "country": "QQ"}, "country"),
        ({**base, "kind": "consulate", "nationality_served": "QQ"}, "nationality_served"),
        ({**base, "kind": "ministry"}, "kind"),
        ({**base, "kind": "ngo", "capacity": 10}, "capacity"),
        ({**base, "kind": "escort", "nationality_served": "BD"}, "nationality_served"),
        ({**base, "kind": "shelter", "capacity": -1}, "capacity"),
        ({**base, "kind": "ngo", "website": "https://example.org"}, "website"),
        ({"kind": "ngo", "country": "IN"}, "name"),
    ]
    for body, field in invalid:
        response = client.post("/api/v1/agencies", json=body, headers=corridor.admin.headers)

        detail = expect.error(response, 422)
        assert field in detail, (body, detail)
        assert "Zzyzx-Secret" not in response.text, (body, detail)
    assert _agencies(client, corridor) == before
