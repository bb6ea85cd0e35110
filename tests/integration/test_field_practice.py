"""Field practice on the real stack: one test per situation agencies meet on the ground.

One stack serves the whole module; each test drives its own cases. The corridors file
written below compresses the India → Pakistan deadlines to seconds, so that a verification
goes overdue and escalates while the test watches; that test starts sweeps through the
sweeper's deployment when it needs them. The schedule runs a sweep every 10 s only: each
sweep is a new process, and sweeps every 2 s kept one of the two cores busy. Each test
writes its cases' timelines to `timelines.txt` in the module's temporary directory (and
prints them, shown with `-s`).
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live import Live, eventually, flow_run, running_stack

pytestmark = pytest.mark.stack

BD_FOCAL_POINT = "Bangladesh-India Task Force (test)"
PK_FOCAL_POINT = "Pakistan anti-trafficking focal point (test)"
FAST_DEADLINE_SECONDS = 5

CORRIDORS = textwrap.dedent(
    f"""\
    corridors:
      - from: IN
        to: BD
        name: India → Bangladesh
        escalation_agency: {BD_FOCAL_POINT}
      - from: IN
        to: PK
        name: India → Pakistan (seconds)
        escalation_agency: {PK_FOCAL_POINT}
        deadlines:
          verify_nationality: {FAST_DEADLINE_SECONDS}s
          provide_information: 5s
          record_document: 5s
          plan_transport: 5s
          accept_placement: 5s
    """
)

TODAY = date.today()
TRAVEL = TODAY + timedelta(days=5)


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home = tmp_path_factory.mktemp("homeward-field")
    corridors = home / "corridors.yaml"
    corridors.write_text(CORRIDORS, encoding="utf-8")
    with running_stack(
        home / "data",
        HOMEWARD_CORRIDORS_FILE=str(corridors),
        # The sweeper also wakes a case whose decision arrived as its run was suspending
        # (flows.control: the run was busy, then waited); this bounds that wait.
        HOMEWARD_SWEEP_SECONDS="10",
    ) as live:
        _register_field_agencies(live)
        yield live


@pytest.fixture(scope="module")
def timelines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("field-timelines") / "timelines.txt"
    path.write_text("", encoding="utf-8")
    return path


def _register_field_agencies(live: Live) -> None:
    live.add_user("supervisor", agency="coordinator", role="supervisor")
    live.add_agency(
        "coordinator2", {"name": "NGO Mumbai", "kind": "ngo", "country": "IN"}, role="coordinator"
    )
    live.add_agency(
        "pk-consul",
        {
            "name": "PK High Commission Delhi",
            "kind": "consulate",
            "country": "IN",
            "nationality_served": "PK",
        },
        role="consular_officer",
    )
    live.add_agency("pk-focal", {"name": PK_FOCAL_POINT, "kind": "government", "country": "PK"})
    live.add_agency("bd-focal", {"name": BD_FOCAL_POINT, "kind": "government", "country": "BD"})
    escort = {"kind": "escort", "country": "IN", "escorts_children": True}
    live.add_agency(
        "escort-children", {**escort, "name": "Escort unit (children)"}, role="escort_officer"
    )
    live.add_agency(
        "escort-girls",
        {**escort, "name": "Escort unit (girls)", "female_escorts": True},
        role="escort_officer",
    )
    live.add_agency(
        "shelter-kids",
        {
            "name": "Children's home Khulna",
            "kind": "shelter",
            "country": "BD",
            "capacity": 5,
            "accepts_children": True,
        },
        role="shelter_officer",
    )
    live.add_agency(
        "shelter-small",
        {"name": "Shelter Satkhira", "kind": "shelter", "country": "BD", "capacity": 1},
        role="shelter_officer",
    )


# --- driving cases ----------------------------------------------------------------------


def launch(live: Live, given: str, family: str, who: str = "coordinator", **survivor: Any) -> str:
    body = {
        "survivor": {
            "given_name": given,
            "family_name": family,
            "sex": "female",
            "birth_date": "1998-06-20",
            "nationality": "BD",
            "languages": ["bn"],
            **survivor,
        },
        "current_country": "IN",
        "trafficking_status": "actual",
        "consent": {"repatriation": True, "data_sharing": True, "follow_up": True},
    }
    response = live.post(who, "/cases", body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def approved(expires_on: date = TODAY + timedelta(days=365)) -> dict[str, Any]:
    return {
        "decision": "approved",
        "travel_document_number": "TP-7001",
        "travel_document_expires_on": expires_on.isoformat(),
    }


def plan(
    live: Live,
    shelter: str = "shelter",
    escort: str = "escort",
    travel_date: date = TRAVEL,
) -> dict[str, Any]:
    return {
        "travel_date": travel_date.isoformat(),
        "mode": "road",
        "crossing_point": "Petrapole-Benapole",
        "escort_agency_id": live.agencies[escort],
        "receiving_shelter_id": live.agencies[shelter],
    }


def attempt(live: Live, who: str, case_id: str, kind: str, body: dict[str, Any]) -> httpx.Response:
    """Complete the agency's open task of this kind on the case, whatever the answer."""
    task = live.open_task(who, case_id, kind)
    return live.post(who, f"/tasks/{task['id']}/complete", body)


def departed_now() -> dict[str, str]:
    return {"departed_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}


def walk_to_handover(live: Live, case_id: str, shelter: str = "shelter") -> None:
    live.complete("consul", case_id, "verify_nationality", approved())
    live.complete("coordinator", case_id, "plan_transport", plan(live, shelter))
    live.complete(shelter, case_id, "accept_placement", {"decision": "accepted"})
    live.complete("escort", case_id, "confirm_departure", departed_now())
    live.complete(
        shelter, case_id, "confirm_handover", {"received_at": datetime.now(UTC).isoformat()}
    )
    live.wait_case(case_id, lambda c: c["stage"] == "reintegration_followup", "follow-up")


def reference_of(live: Live, case_id: str, who: str = "coordinator") -> str:
    return str(live.case(who, case_id)["reference"])


def titles(live: Live, agency: str, reference: str) -> list[str]:
    return [
        str(m["title"])
        for m in live.sink.messages(agency)
        if reference in str(m["title"]) + str(m["body"])
    ]


def titled(live: Live, agency: str, reference: str, phrase: str) -> list[str]:
    return [t for t in titles(live, agency, reference) if phrase in t]


def open_tasks(live: Live, who: str, case_id: str) -> list[dict[str, Any]]:
    return [t for t in live.get(who, "/tasks", status="open") if t["case_id"] == case_id]


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["detail"])


def wait_run_completed(
    live: Live, case_id: str, who: str = "coordinator", timeout: float = 60
) -> None:
    def ended() -> bool:
        # Read each time: on a loaded machine the case's first pass may not have started
        # yet, and the run that ends it is then not yet recorded.
        run_id = live.case(who, case_id)["flow_run_id"]
        return run_id is not None and flow_run(live, run_id)["state"]["type"] == "COMPLETED"

    eventually(ended, timeout, "the case's flow run to end")


def assert_no_personal_data(live: Live, *private: str) -> None:
    everything = str(live.sink.messages())
    for text in private:
        assert text not in everything, f"{text!r} reached a notification"


# --- timelines --------------------------------------------------------------------------

# Keys worth a glance in a compact timeline; ids are left out, agencies named.
_SHOWN = (
    "task_kind",
    "round",
    "outcome",
    "document",
    "from_stage",
    "to_stage",
    "reason",
    "basis",
    "stage",
    "other_reference",
    "of",
    "focal_point",
    "by_other_agency",
)
_AGENCY_KEYS = ("agency_id", "to_agency_id", "from_agency_id", "focal_point_agency_id")


def compact(live: Live, event: dict[str, Any]) -> str:
    names = {agency_id: name for name, agency_id in live.agencies.items()}
    data = event["data"]
    parts = [f"{event['seq']:>3} {event['kind']}"]
    for key in _SHOWN:
        if data.get(key) is not None:
            parts.append(f"{key}={data[key]}")
    for key in _AGENCY_KEYS:
        if data.get(key) is not None:
            parts.append(f"{key.removesuffix('_id')}={names.get(data[key], '?')}")
    return " ".join(parts)


def record_timeline(
    live: Live, path: Path, scenario: str, case_id: str, who: str = "coordinator"
) -> list[dict[str, Any]]:
    events = live.timeline(who, case_id)
    lines = [f"== {scenario}: {reference_of(live, case_id, who)}"]
    lines += [compact(live, e) for e in events]
    text = "\n".join(lines) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
    print("\n" + text, end="")
    return events


def kinds_of(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["kind"]) for e in events]


# --- the sweeper ------------------------------------------------------------------------

_FINISHED = {"COMPLETED", "CANCELLED", "FAILED", "CRASHED"}


def sweep_end(live: Live, run_id: str) -> dict[str, Any]:
    state: dict[str, Any] = {}

    def finished() -> bool:
        try:
            state.update(flow_run(live, run_id)["state"])
        except httpx.HTTPStatusError as error:  # 503: Prefect's database was locked
            if error.response.status_code != 503:
                raise
            return False
        return state["type"] in _FINISHED

    eventually(finished, 120, "the sweep to finish")
    return state


def sweeps_running(live: Live) -> int:
    response = httpx.post(
        f"{live.stack.prefect_api_url}/flow_runs/filter",
        json={
            "flows": {"name": {"any_": ["sweeper"]}},
            "flow_runs": {"state": {"type": {"any_": ["PENDING", "RUNNING"]}}},
        },
        timeout=10,
    )
    if response.status_code == 503:  # Prefect's database was locked: ask again
        return -1
    response.raise_for_status()
    return len(response.json())


def run_sweeper(live: Live) -> None:
    """One sweep started through the sweeper deployment, as its schedule starts them."""
    api = live.stack.prefect_api_url
    deployment = httpx.get(f"{api}/deployments/name/sweeper/sweeper", timeout=10)
    deployment.raise_for_status()
    for _ in range(5):
        # One sweep at a time: one started now while a scheduled sweep runs is cancelled.
        eventually(lambda: sweeps_running(live) == 0, 60, "the scheduled sweep to finish")
        url = f"{api}/deployments/{deployment.json()['id']}/create_flow_run"
        created = httpx.post(url, json={}, timeout=10)
        for _ in range(5):
            if created.status_code != 503:
                break
            # Prefect's SQLite database was locked by another writer (notes/PREFECT.md).
            time.sleep(1)
            created = httpx.post(url, json={}, timeout=10)
        created.raise_for_status()
        state = sweep_end(live, created.json()["id"])
        if state["type"] == "COMPLETED":
            return
        assert state["type"] == "CANCELLED", state
    raise AssertionError("five sweeps in a row were cancelled")


# --- 1. verification overdue → escalation ----------------------------------------------


def test_overdue_verification_escalates_once_across_sweeps_and_a_restart(
    field: Live, timelines: Path
) -> None:
    live = field
    case_id = launch(
        live,
        "Ayesha",
        "Siddiqui-Field",
        nationality="PK",
        languages=["ur"],
        birth_date="1997-01-05",
    )
    task = live.open_task("pk-consul", case_id, "verify_nationality")
    opened, due = (datetime.fromisoformat(task[k]) for k in ("opened_at", "due_at"))
    assert due - opened == timedelta(seconds=FAST_DEADLINE_SECONDS)
    reference = task["case_reference"]

    def sleep_until(moment: datetime) -> None:
        time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.5)

    sleep_until(due)
    run_sweeper(live)
    eventually(
        lambda: len(titled(live, "pk-consul", reference, ": overdue")) == 1,
        30,
        "the consulate's reminder",
    )
    sleep_until(due + (due - opened) / 2)
    run_sweeper(live)
    eventually(
        lambda: len(titled(live, "pk-focal", reference, "escalated")) == 1,
        30,
        "the focal point to hear of the escalation",
    )
    run_sweeper(live)
    live.stack.kill("runner")
    live.stack.start_runner()
    run_sweeper(live)

    assert titles(live, "pk-focal", reference) == [
        f"Homeward {reference}: escalated \N{EM DASH} Verify nationality"
    ]
    assert len(titled(live, "pk-consul", reference, ": overdue")) == 1
    assert len(titled(live, "coordinator", reference, "task overdue")) == 1
    assert titled(live, "bd-focal", reference, "") == []
    for agency in ("pk-focal", "pk-consul", "coordinator"):
        assert live.sink.tally(agency).duplicated == 0, agency
    overdue = live.get("pk-consul", "/tasks", overdue="true")
    assert [t["id"] for t in overdue if t["case_id"] == case_id] == [task["id"]]

    events = record_timeline(live, timelines, "1 overdue verification escalates", case_id)
    assert kinds_of(events).count("task_overdue") == 1
    assert kinds_of(events).count("task_escalated") == 1
    [escalation] = [e for e in events if e["kind"] == "task_escalated"]
    assert escalation["data"]["focal_point"] == PK_FOCAL_POINT
    assert escalation["data"]["focal_point_agency_id"] == live.agencies["pk-focal"]
    assert_no_personal_data(live, "Ayesha", "Siddiqui-Field", "1997-01-05")


# --- 2. information request round trip -------------------------------------------------


def test_information_request_round_trip_pauses_the_verification_clock(
    field: Live, timelines: Path
) -> None:
    live = field
    case_id = launch(live, "Rokeya", "Sultana-Field", birth_date="2000-02-11")
    question = "Which union parishad issued the birth certificate?"
    first = live.complete(
        "consul",
        case_id,
        "verify_nationality",
        {"decision": "information_requested", "question": question},
    )
    reference = first["case_reference"]
    answer = "Jhikargacha union parishad, Jashore district"
    asked = live.open_task("coordinator", case_id, "provide_information")
    assert asked["context"] == {"question": question}
    eventually(
        lambda: len(titled(live, "coordinator", reference, "Answer the consulate")) == 1,
        30,
        "the coordinator to be told of the question",
    )
    live.complete("coordinator", case_id, "provide_information", {"answer": answer})

    second = live.open_task("consul", case_id, "verify_nationality")
    assert second["round"] == 2
    assert second["context"] == {"question": question, "answer": answer}
    # The clock stopped while the coordinator had the question: round 2 gets what was left.
    done = next(t for t in live.get("consul", "/tasks", status="done") if t["id"] == first["id"])
    left = datetime.fromisoformat(first["due_at"]) - datetime.fromisoformat(done["completed_at"])
    # Counted from the answer, not from when the flow's next pass opened round 2.
    answered = next(
        t for t in live.get("coordinator", "/tasks", status="done") if t["id"] == asked["id"]
    )
    allowance = datetime.fromisoformat(second["due_at"]) - datetime.fromisoformat(
        answered["completed_at"]
    )
    assert abs(allowance - left) < timedelta(seconds=1)
    assert allowance < timedelta(days=90)

    live.complete("consul", case_id, "verify_nationality", approved())
    live.open_task("coordinator", case_id, "plan_transport")
    assert live.case("coordinator", case_id)["stage"] == "safe_transport"
    assert len(titled(live, "consul", reference, "Verify nationality")) == 2
    assert_no_personal_data(live, question, answer, "Rokeya", "Sultana-Field")

    events = record_timeline(live, timelines, "2 information request round trip", case_id)
    completed = [
        (e["data"]["task_kind"], e["data"]["round"], e["data"]["outcome"])
        for e in events
        if e["kind"] == "task_completed"
    ]
    assert completed == [
        ("verify_nationality", 1, "information_requested"),
        ("provide_information", 1, "answered"),
        ("verify_nationality", 2, "approved"),
    ]


# --- 3. travel document expiring before the journey ------------------------------------


def test_expiring_travel_document_blocks_departure_until_reissued(
    field: Live, timelines: Path
) -> None:
    live = field
    case_id = launch(live, "Farida", "Yasmin-Field", birth_date="1995-09-30")
    expires = TODAY + timedelta(days=2)
    live.complete("consul", case_id, "verify_nationality", approved(expires_on=expires))
    live.complete("coordinator", case_id, "plan_transport", plan(live))
    live.complete("shelter", case_id, "accept_placement", {"decision": "accepted"})

    reissue = live.open_task("consul", case_id, "reissue_travel_document")
    assert reissue["context"] == {
        "expires_on": expires.isoformat(),
        "travel_date": TRAVEL.isoformat(),
    }
    live.wait_case(
        case_id,
        lambda c: c["blocked_reason"] == "travel_document_expired",
        "the case to show why it waits",
    )
    # The escort is asked only once the survivor can leave.
    assert [t["kind"] for t in open_tasks(live, "escort", case_id)] == []

    live.complete(
        "consul",
        case_id,
        "reissue_travel_document",
        {
            "travel_document_number": "TP-7002",
            "travel_document_expires_on": (TODAY + timedelta(days=400)).isoformat(),
        },
    )
    live.complete("escort", case_id, "confirm_departure", departed_now())
    moved = live.wait_case(
        case_id, lambda c: c["stage"] == "shelter_handover", "the case to leave transport"
    )
    assert moved["blocked_reason"] is None

    events = record_timeline(live, timelines, "3 travel document re-issued", case_id)
    assert ("case_blocked", "travel_document_expired") in [
        (e["kind"], e["data"].get("reason")) for e in events
    ]
    assert "case_unblocked" in kinds_of(events)


# --- 4. a child's journey --------------------------------------------------------------


def test_minor_needs_a_child_capable_escort_and_shelter(field: Live, timelines: Path) -> None:
    live = field
    birth = TODAY.replace(year=TODAY.year - 15) - timedelta(days=40)
    case_id = launch(live, "Shapla", "Khatun-Field", birth_date=birth.isoformat())
    live.complete("consul", case_id, "verify_nationality", approved())
    clearance = live.open_task("coordinator", case_id, "record_document")
    assert clearance["context"] == {"document": "child_protection_clearance"}

    refusals = [
        (plan(live), "able to escort children"),
        (plan(live, escort="escort-children"), "female escort"),
        (plan(live, escort="escort-girls"), "a shelter registered as taking children"),
    ]
    for body, why in refusals:
        detail = error_of(attempt(live, "coordinator", case_id, "plan_transport", body), 422)
        assert why in detail, detail
        assert birth.isoformat() not in detail
    live.complete(
        "coordinator", case_id, "plan_transport", plan(live, "shelter-kids", "escort-girls")
    )
    assert live.case("coordinator", case_id)["is_minor"] is True

    live.complete(
        "coordinator",
        case_id,
        "record_document",
        {"reference": "CWC/KOL/2025/118", "issued_on": TODAY.isoformat()},
    )
    live.complete("shelter-kids", case_id, "accept_placement", {"decision": "accepted"})
    live.complete("escort-girls", case_id, "confirm_departure", departed_now())
    live.wait_case(case_id, lambda c: c["stage"] == "shelter_handover", "the departure")
    assert open_tasks(live, "escort", case_id) == []

    events = record_timeline(live, timelines, "4 minor with a child-capable escort", case_id)
    plans = [
        e
        for e in events
        if e["kind"] == "task_completed" and e["data"]["task_kind"] == "plan_transport"
    ]
    assert len(plans) == 1  # the refused plans left nothing behind
    assert_no_personal_data(live, "Shapla", "Khatun-Field", birth.isoformat())


# --- 5. a full shelter -----------------------------------------------------------------


def test_full_shelter_refuses_then_another_shelter_accepts(field: Live, timelines: Path) -> None:
    live = field
    first = launch(live, "Hasina", "Akter-Field", birth_date="1993-03-03")
    second = launch(live, "Moushumi", "Roy-Field", birth_date="2001-12-12")
    for case_id in (first, second):
        live.complete("consul", case_id, "verify_nationality", approved())
        live.complete("coordinator", case_id, "plan_transport", plan(live, "shelter-small"))

    live.complete("shelter-small", first, "accept_placement", {"decision": "accepted"})
    small = next(a for a in live.get("coordinator", "/agencies") if a["name"] == "Shelter Satkhira")
    assert (small["occupancy"], small["capacity"]) == (1, 1)
    detail = error_of(
        attempt(live, "shelter-small", second, "accept_placement", {"decision": "accepted"}), 409
    )
    assert "Shelter Satkhira is full (1 of 1" in detail, detail
    live.complete(
        "shelter-small", second, "accept_placement", {"decision": "declined", "reason": "full"}
    )
    replan = live.open_task("coordinator", second, "plan_transport")
    assert replan["round"] == 2
    detail = error_of(
        attempt(live, "coordinator", second, "plan_transport", plan(live, "shelter-small")), 409
    )
    assert "is full" in detail, detail
    live.complete("coordinator", second, "plan_transport", plan(live, "shelter2"))
    live.complete("shelter2", second, "accept_placement", {"decision": "accepted"})
    live.open_task("escort", second, "confirm_departure")

    events = record_timeline(live, timelines, "5 full shelter, another accepts", second)
    placements = [
        (e["data"]["round"], e["data"]["outcome"])
        for e in events
        if e["kind"] == "task_completed" and e["data"]["task_kind"] == "accept_placement"
    ]
    assert placements == [(1, "declined"), (2, "accepted")]


# --- 6. transfers between shelters -----------------------------------------------------


def test_transfer_rejected_revoked_then_accepted(field: Live, timelines: Path) -> None:
    live = field
    case_id = launch(live, "Parvin", "Nahar-Field", birth_date="1996-07-07")
    reference = reference_of(live, case_id)
    transfer = {"to_shelter_id": live.agencies["shelter2"], "reason": "closer to her family"}
    live.complete("consul", case_id, "verify_nationality", approved())
    live.complete("coordinator", case_id, "plan_transport", plan(live))
    live.complete("shelter", case_id, "accept_placement", {"decision": "accepted"})
    early = live.post("shelter", f"/cases/{case_id}/transfer", transfer)
    assert "only after the handover" in error_of(early, 409)
    live.complete("escort", case_id, "confirm_departure", departed_now())
    live.complete(
        "shelter", case_id, "confirm_handover", {"received_at": datetime.now(UTC).isoformat()}
    )
    live.wait_case(case_id, lambda c: c["stage"] == "reintegration_followup", "follow-up")
    follow_ups = open_tasks(live, "shelter", case_id)
    assert [t["kind"] for t in follow_ups] == ["record_follow_up"] * 2

    def request() -> dict[str, Any]:
        response = live.post("shelter", f"/cases/{case_id}/transfer", transfer)
        assert response.status_code == 201, response.text
        return dict(response.json())

    request()
    live.complete(
        "shelter2", case_id, "accept_transfer", {"decision": "rejected", "reason": "no room"}
    )
    eventually(
        lambda: len(titled(live, "shelter", reference, "transfer rejected")) == 1,
        30,
        "the sending shelter to hear of the rejection",
    )
    assert (
        live.case("shelter", case_id)["travel"]["receiving_shelter_id"] == live.agencies["shelter"]
    )

    pending = request()
    again = live.post(
        "shelter",
        f"/cases/{case_id}/transfer",
        {"to_shelter_id": live.agencies["shelter2"], "reason": "twice"},
    )
    assert again.status_code == 409, again.text
    revoked = live.post("shelter", f"/cases/{case_id}/transfer/revoke", {})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "cancelled"
    assert [t for t in open_tasks(live, "shelter2", case_id) if t["id"] == pending["id"]] == []
    eventually(
        lambda: len(titled(live, "shelter2", reference, "task withdrawn")) == 1,
        30,
        "the receiving shelter to hear of the revocation",
    )

    request()
    live.complete("shelter2", case_id, "accept_transfer", {"decision": "accepted"})
    moved = live.case("coordinator", case_id)
    assert moved["travel"]["receiving_shelter_id"] == live.agencies["shelter2"]
    assert {t["id"] for t in open_tasks(live, "shelter2", case_id)} == {t["id"] for t in follow_ups}
    gone = live.http.get(f"/api/v1/cases/{case_id}", headers=live.login("shelter"))
    assert gone.status_code == 404, gone.text  # access moved with the survivor
    eventually(
        lambda: len(titled(live, "shelter", reference, "transfer accepted")) == 1,
        30,
        "the sending shelter to hear of the acceptance",
    )
    for _ in follow_ups:
        live.complete("shelter2", case_id, "record_follow_up", {"outcome": "reintegrating"})
    live.wait_case(case_id, lambda c: c["status"] == "closed", "the case to close")

    events = record_timeline(live, timelines, "6 transfer rejected, revoked, accepted", case_id)
    transfers = [e["kind"] for e in events if e["kind"].startswith("transfer_")]
    assert transfers == [
        "transfer_requested",
        "transfer_rejected",
        "transfer_requested",
        "transfer_revoked",
        "transfer_requested",
        "transfer_accepted",
    ]


# --- 7. a legal hold -------------------------------------------------------------------


def test_legal_hold_blocks_departure_until_remote_testimony(field: Live, timelines: Path) -> None:
    live = field
    case_id = launch(live, "Lipi", "Begum-Field", birth_date="1999-11-01")
    live.complete("consul", case_id, "verify_nationality", approved())
    placed = live.post(
        "coordinator",
        f"/cases/{case_id}/holds",
        {"court_case_reference": "Sessions Case 44/2025", "reason": "witness_in_trial"},
    )
    assert placed.status_code == 201, placed.text
    hold_id = placed.json()["id"]
    live.complete("coordinator", case_id, "plan_transport", plan(live))
    live.complete("shelter", case_id, "accept_placement", {"decision": "accepted"})
    blocked = live.wait_case(
        case_id, lambda c: c["blocked_reason"] == "legal_hold", "the hold to show on the case"
    )
    assert blocked["legal_hold"] is True
    # The escort is asked only once the survivor can leave.
    assert [t["kind"] for t in open_tasks(live, "escort", case_id)] == []

    unnamed = live.post(
        "coordinator", f"/cases/{case_id}/holds/{hold_id}/release", {"basis": "court_permission"}
    )
    assert unnamed.status_code == 422, unnamed.text
    released = live.post(
        "coordinator",
        f"/cases/{case_id}/holds/{hold_id}/release",
        {"basis": "remote_testimony_arranged"},
    )
    assert released.status_code == 200, released.text
    assert released.json()["release_basis"] == "remote_testimony_arranged"
    live.complete("escort", case_id, "confirm_departure", departed_now())
    live.wait_case(case_id, lambda c: c["stage"] == "shelter_handover", "the departure")
    assert "Sessions Case 44/2025" not in str(live.sink.messages())

    events = record_timeline(live, timelines, "7 legal hold, remote testimony", case_id)
    order = [e["kind"] for e in events if e["kind"].startswith("legal_hold")]
    assert order == ["legal_hold_placed", "legal_hold_released"]
    assert ("case_blocked", "legal_hold") in [(e["kind"], e["data"].get("reason")) for e in events]


# --- 8. the same survivor registered twice ---------------------------------------------


def test_duplicates_across_two_ngos_with_spelling_variants(field: Live, timelines: Path) -> None:
    live = field
    earlier = launch(
        live, "Mohammad", "Rahman", sex="male", birth_date="1994-05-10", languages=["bn"]
    )
    later = launch(
        live, "Mohammed", "Rahaman", who="coordinator2", sex="male", birth_date="1995-02-01"
    )
    sita = launch(live, "Sita", "Tamang", nationality="NP", languages=["ne"])
    seeta = launch(
        live, "Seeta", "Tamang", who="coordinator2", nationality="NP", birth_date="1997-08-15"
    )
    pairs = [
        (earlier, later, reference_of(live, earlier), reference_of(live, later, "coordinator2")),
        (sita, seeta, reference_of(live, sita), reference_of(live, seeta, "coordinator2")),
    ]
    for first, second, first_ref, second_ref in pairs:
        mine = live.open_task("coordinator", first, "resolve_duplicate")
        theirs = live.open_task("coordinator2", second, "resolve_duplicate")
        assert mine["context"] == {"other_reference": second_ref, "other_agency": "NGO Mumbai"}
        assert theirs["context"] == {"other_reference": first_ref, "other_agency": "NGO Kolkata"}
        for agency, reference in (("coordinator", first_ref), ("coordinator2", second_ref)):
            eventually(
                lambda a=agency, r=reference: (
                    len(titled(live, a, r, "Check a possible duplicate")) == 1
                ),
                30,
                f"{agency} to be asked about the duplicate",
            )

    live.complete("coordinator", earlier, "resolve_duplicate", {"decision": "linked"})
    closed = live.case("coordinator2", later)
    assert (closed["status"], closed["closed_reason"]) == ("closed", "duplicate")
    assert closed["duplicate_of_case_id"] == earlier
    assert open_tasks(live, "coordinator2", later) == []
    assert open_tasks(live, "consul", later) == []
    # The later case is woken like any case a decision moves, not left to the next sweep.
    wait_run_completed(live, later, "coordinator2", timeout=90)
    assert live.case("coordinator", earlier)["status"] == "open"

    live.complete("coordinator2", seeta, "resolve_duplicate", {"decision": "dismissed"})
    assert open_tasks(live, "coordinator", sita) == []
    assert live.case("coordinator", sita)["status"] == "open"
    assert live.case("coordinator2", seeta)["status"] == "open"

    eventually(
        lambda: len(titled(live, "coordinator2", pairs[0][3], "closed as a duplicate")) == 1,
        10,
        "the later case's NGO to hear it is closed",
    )
    assert_no_personal_data(
        live, "Mohammad", "Mohammed", "Rahman", "Rahaman", "Sita", "Seeta", "Tamang", "1994-05-10"
    )
    events = record_timeline(
        live, timelines, "8 duplicate linked (later case)", later, "coordinator2"
    )
    assert ("case_closed", "duplicate") in [(e["kind"], e["data"].get("reason")) for e in events]
    events = record_timeline(live, timelines, "8 duplicate linked (earlier case)", earlier)
    assert "duplicate_linked" in kinds_of(events)
    events = record_timeline(live, timelines, "8 duplicate dismissed", sita)
    assert "duplicate_dismissed" in kinds_of(events)


# --- 9. re-trafficking after return ----------------------------------------------------


def test_re_trafficking_alerts_and_needs_a_supervisor_to_close(
    field: Live, timelines: Path
) -> None:
    live = field
    case_id = launch(live, "Nargis", "Parvin-Field", birth_date="1998-01-19")
    reference = reference_of(live, case_id)
    walk_to_handover(live, case_id)

    started = time.monotonic()
    live.complete(
        "shelter",
        case_id,
        "record_follow_up",
        {"outcome": "re_trafficked", "notes": "Field-note: seen at the border again"},
    )
    eventually(
        lambda: len(titled(live, "coordinator", reference, "follow-up needs attention now")) == 1,
        30,
        "the coordinator's alert",
    )
    alert_seconds = time.monotonic() - started
    assert live.case("coordinator", case_id)["closure_review"] == "required"
    live.complete("shelter", case_id, "record_follow_up", {"outcome": "reintegrating"})

    review = live.open_task("coordinator", case_id, "approve_closure")
    refused = live.post(
        "coordinator",
        f"/tasks/{review['id']}/complete",
        {"decision": "close", "reason": "reintegrating"},
    )
    assert refused.status_code == 403, refused.text
    live.complete(
        "supervisor", case_id, "approve_closure", {"decision": "close", "reason": "stable now"}
    )
    live.wait_case(case_id, lambda c: c["status"] == "closed", "the supervisor's closure")
    wait_run_completed(live, case_id)

    reopened = live.post(
        "coordinator", f"/cases/{case_id}/reopen", {"reason": "re_trafficked", "note": "police"}
    )
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["status"], reopened.json()["stage"]) == (
        "open",
        "reintegration_followup",
    )
    extra = live.open_task("shelter", case_id, "record_follow_up")
    assert extra["round"] == 3
    live.complete("shelter", case_id, "record_follow_up", {"outcome": "reintegrating"})
    second_review = live.open_task("supervisor", case_id, "approve_closure")
    assert second_review["round"] == 2
    live.complete(
        "supervisor", case_id, "approve_closure", {"decision": "close", "reason": "safe again"}
    )
    live.wait_case(case_id, lambda c: c["status"] == "closed", "the second closure")
    assert_no_personal_data(live, "Field-note", "Nargis", "Parvin-Field")

    events = record_timeline(live, timelines, "9 re-trafficked, closed, reopened", case_id)
    print(f"   (alert reached the coordinator {alert_seconds:.1f} s after the follow-up)")
    assert kinds_of(events).count("follow_up_alert") == 1
    assert kinds_of(events).count("case_reopened") == 1
    assert kinds_of(events).count("case_closed") == 2
    assert alert_seconds < 30
