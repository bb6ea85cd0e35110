"""Transfers between shelters over the API."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from models.enums import TaskKind
from tests import factories
from tests.factories import Corridor


def test_transfer_request_and_revocation_wake_the_case(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.record_follow_up)
    woken.clear()
    transfer = {"to_shelter_id": str(corridor.other_shelter.agency_id), "reason": "family"}

    requested = client.post(
        f"/api/v1/cases/{case_id}/transfer", json=transfer, headers=corridor.shelter.headers
    )
    assert requested.status_code == 201, requested.text
    revoked = client.post(
        f"/api/v1/cases/{case_id}/transfer/revoke", headers=corridor.shelter.headers
    )
    assert revoked.status_code == 200, revoked.text

    # Each one queues a message (the task, its withdrawal) that the case's flow run sends.
    assert woken == [uuid.UUID(case_id)] * 2
