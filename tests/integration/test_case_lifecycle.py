"""Whole cases driven over HTTP through the real Prefect server, runner and API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.live import (
    APPROVED,
    FAMILY_NAME,
    GIVEN_NAME,
    Live,
    eventually,
    flow_run,
    messages_for,
    one_of_many,
    plan,
    wait_suspended,
)

pytestmark = pytest.mark.stack

NOTE = "Testcase-note: lives with her uncle near the market"


def launch(live: Live, **survivor: Any) -> dict[str, Any]:
    body = {
        "survivor": {
            "given_name": GIVEN_NAME,
            "family_name": one_of_many(FAMILY_NAME),
            "sex": "female",
            "birth_date": "1999-04-12",
            "nationality": "BD",
            "languages": ["bn"],
            **survivor,
        },
        "current_country": "IN",
        "trafficking_status": "actual",
        "consent": {"repatriation": True, "data_sharing": True, "follow_up": True},
    }
    response = live.post("coordinator", "/cases", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_happy_path_reaches_closed_and_notifies_each_agency(live: Live) -> None:
    walk_to_closed(live)


def test_happy_path_with_homeward_data_on_postgresql(live_on_postgres: Live) -> None:
    walk_to_closed(live_on_postgres)


def walk_to_closed(live: Live) -> str:
    """Walk one case from launch to `closed`, checking what each agency hears; its id."""
    case = launch(live)
    case_id, reference = case["id"], case["reference"]

    run = wait_suspended(live, case_id)
    assert run["name"] == reference
    assert run["parameters"] == {"case_id": case_id}

    live.complete("consul", case_id, "verify_nationality", APPROVED)
    live.complete("coordinator", case_id, "plan_transport", plan(live))
    live.complete("shelter", case_id, "accept_placement", {"decision": "accepted"})
    # Not before the launch, moments ago.
    departed = datetime.now(UTC) - timedelta(minutes=5)
    live.complete("escort", case_id, "confirm_departure", {"departed_at": departed.isoformat()})
    live.complete(
        "shelter",
        case_id,
        "confirm_handover",
        {"received_at": (departed + timedelta(minutes=3)).isoformat()},
    )
    for _ in range(2):  # follow-up offsets 0,0: both open at handover
        live.complete(
            "shelter", case_id, "record_follow_up", {"outcome": "reintegrating", "notes": NOTE}
        )

    closed = live.wait_case(case_id, lambda c: c["status"] == "closed", "the case to close")
    assert closed["stage"] == "closed"
    eventually(
        lambda: flow_run(live, closed["flow_run_id"])["state"]["type"] == "COMPLETED",
        120,
        "the flow run to complete",
    )

    def kinds(agency: str) -> list[str]:
        return sorted(m["title"] for m in messages_for(live, agency, reference))

    eventually(lambda: len(kinds("coordinator")) >= 3, 30, "the coordinator's messages")
    assert len(kinds("consul")) == 1 and "Verify nationality" in kinds("consul")[0]
    assert len(kinds("escort")) == 1
    assert len(kinds("shelter")) == 4  # placement, handover, two follow-ups
    assert kinds("shelter2") == []
    everything = str(live.sink.messages())
    assert GIVEN_NAME not in everything and FAMILY_NAME not in everything
    assert "1999" not in everything and NOTE not in everything
    for log in (live.settings.data_dir / "logs").iterdir():
        text = log.read_text(errors="replace")
        assert GIVEN_NAME not in text and FAMILY_NAME not in text, log.name
        assert "1999-04-12" not in text and NOTE not in text, log.name
    return str(case_id)


def test_rejected_verification_stops_the_case(live: Live) -> None:
    case = launch(live)
    case_id, reference = case["id"], case["reference"]
    live.complete(
        "consul",
        case_id,
        "verify_nationality",
        {"decision": "rejected", "reason": "not a national"},
    )
    rejected = live.wait_case(case_id, lambda c: c["status"] == "rejected", "rejection")
    assert rejected["stage"] == "consular_verification"
    eventually(
        lambda: len(messages_for(live, "coordinator", reference)) == 1,
        30,
        "the coordinator to hear of the rejection",
    )
    assert "not a national" not in str(live.sink.messages())
    for who in ("coordinator", "escort", "shelter"):
        assert [t for t in live.get(who, "/tasks", status="open") if t["case_id"] == case_id] == []
    eventually(
        lambda: flow_run(live, rejected["flow_run_id"])["state"]["type"] == "COMPLETED",
        120,
        "the flow run to complete",
    )


def test_declined_placement_goes_back_to_planning(live: Live) -> None:
    case = launch(live)
    case_id, reference = case["id"], case["reference"]
    live.complete("consul", case_id, "verify_nationality", APPROVED)
    live.complete("coordinator", case_id, "plan_transport", plan(live))
    live.complete(
        "shelter", case_id, "accept_placement", {"decision": "declined", "reason": "no capacity"}
    )
    replan = live.open_task("coordinator", case_id, "plan_transport")
    assert replan["round"] == 2
    live.complete("coordinator", case_id, "plan_transport", plan(live, shelter="shelter2"))
    placement = live.open_task("shelter2", case_id, "accept_placement")
    assert placement["round"] == 2
    titles = [m["title"] for m in messages_for(live, "coordinator", reference)]
    assert any("declined" in t.lower() for t in titles), titles
