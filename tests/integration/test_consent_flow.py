"""Consent withdrawn and given again mid-case, on the real flow."""

from __future__ import annotations

import pytest

from tests.integration.test_case_lifecycle import launch
from tests.support.live import (
    APPROVED,
    FAMILY_NAME,
    GIVEN_NAME,
    Live,
    eventually,
    flow_run,
    messages_for,
    plan,
)

pytestmark = pytest.mark.stack


def test_withdrawal_halts_the_flow_and_consent_again_resumes_it(live: Live) -> None:
    case = launch(live)
    case_id, reference = case["id"], case["reference"]
    live.complete("consul", case_id, "verify_nationality", APPROVED)
    live.complete("coordinator", case_id, "plan_transport", plan(live))
    live.open_task("shelter", case_id, "accept_placement")

    response = live.post("coordinator", f"/cases/{case_id}/consent", {"data_sharing": False})
    assert response.status_code == 200, response.text
    halted = live.wait_case(
        case_id, lambda c: c["blocked_reason"] == "consent_withdrawn", "the case to halt"
    )
    assert halted["status"] == "halted"
    eventually(
        lambda: flow_run(live, halted["flow_run_id"])["state"]["name"] == "Suspended",
        60,
        "the flow run to wait",
    )
    eventually(
        lambda: any("halted" in m["title"] for m in messages_for(live, "shelter", reference)),
        30,
        "the shelter to be told",
    )
    told = [m for m in messages_for(live, "shelter", reference) if "halted" in m["title"]]
    assert len(told) == 1
    assert GIVEN_NAME not in str(told) and FAMILY_NAME not in str(told)
    assert (
        live.http.get(f"/api/v1/cases/{case_id}", headers=live.login("shelter")).status_code == 404
    )

    response = live.post("coordinator", f"/cases/{case_id}/consent", {"data_sharing": True})
    assert response.status_code == 200, response.text
    replan = live.open_task("coordinator", case_id, "plan_transport")
    assert replan["round"] == 2
    resumed = live.case("coordinator", case_id)
    assert (resumed["status"], resumed["blocked_reason"]) == ("open", None)
    assert resumed["flow_run_id"] == halted["flow_run_id"]  # the same run waited and went on
