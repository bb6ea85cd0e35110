"""The actions on a case's page that are not tasks: legal holds, consent, reopening and
shelter transfers, through the same domain functions as the JSON API."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient

from models.enums import TaskKind
from tests import factories
from tests.web.conftest import KEY, browser, csrf_of, sign_in

HOLD_BADGE = 'badge late">Legal hold'


def _key(html: str) -> str:
    found = KEY.search(html)
    assert found is not None, "the form has no key"
    return found.group(1)


def _reference(client: TestClient, member: factories.Member, case_id: str) -> str:
    reference: str = factories.case_of(client, member, case_id)["reference"]
    return reference


def _launched(client: TestClient, c: factories.Corridor) -> tuple[str, str]:
    """A case at consular verification (a hold may be placed); its id and reference."""
    case_id: str = factories.launch(client, c.ngo)["id"]
    factories.advance(c.settings, case_id)
    return case_id, _reference(client, c.ngo, case_id)


def _signed_in(client: TestClient, username: str) -> TestClient:
    someone = browser(client)
    sign_in(someone, username)
    return someone


def _send(someone: TestClient, form_path: str, action: str, **fields: str) -> tuple[int, str, str]:
    """Open the form's page, fill in `fields` and send it as a browser does."""
    shown = someone.get(form_path)
    assert shown.status_code == 200, shown.text
    data = {"csrf": csrf_of(shown.text), "idempotency_key": _key(shown.text), **fields}
    answer = someone.post(action, data=data, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", ""), answer.text


def _holds(client: TestClient, c: factories.Corridor, case_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/cases/{case_id}/holds", headers=c.ngo.headers)
    assert response.status_code == 200, response.text
    holds: list[dict[str, Any]] = response.json()
    return holds


def test_a_hold_is_placed_and_released_from_the_pages(
    client: TestClient, corridor: factories.Corridor, woken: list[uuid.UUID]
) -> None:
    case_id, reference = _launched(client, corridor)
    ngo = _signed_in(client, corridor.ngo.username)
    case_page = ngo.get(f"/cases/{reference}")
    assert HOLD_BADGE not in case_page.text
    assert f'href="/cases/{reference}/holds"' in case_page.text

    status, location, _ = _send(
        ngo,
        f"/cases/{reference}/holds",
        f"/cases/{reference}/holds",
        court_case_reference="SC-2026-118",
        reason="witness_in_trial",
    )
    assert (status, location) == (303, f"/cases/{reference}?done=hold_placed")
    assert woken[-1] == uuid.UUID(case_id)
    shown = ngo.get(location)
    assert HOLD_BADGE in shown.text
    assert "The legal hold is placed" in shown.text
    (hold,) = _holds(client, corridor, case_id)
    assert hold["court_case_reference"] == "SC-2026-118" and hold["released_at"] is None

    holds_page = ngo.get(f"/cases/{reference}/holds")
    assert f'action="/cases/{reference}/holds/{hold["id"]}/release"' in holds_page.text
    status, location, _ = _send(
        ngo,
        f"/cases/{reference}/holds",
        f"/cases/{reference}/holds/{hold['id']}/release",
        basis="court_permission",
        permission_reference="ORD-55/2026",
    )
    assert (status, location) == (303, f"/cases/{reference}?done=hold_released")
    assert HOLD_BADGE not in ngo.get(location).text
    (released,) = _holds(client, corridor, case_id)
    assert released["release_basis"] == "court_permission"
    assert released["permission_reference"] == "ORD-55/2026"
    assert woken == [uuid.UUID(case_id)] * 3  # the launch, then each hold action


def test_a_refused_hold_shows_the_problem_beside_its_field_and_keeps_the_input(
    client: TestClient, corridor: factories.Corridor
) -> None:
    case_id, reference = _launched(client, corridor)
    ngo = _signed_in(client, corridor.ngo.username)
    status, _, html = _send(
        ngo,
        f"/cases/{reference}/holds",
        f"/cases/{reference}/holds",
        court_case_reference="   ",
        reason="investigation",
    )
    assert status == 422
    assert re.search(r'id="hold-court_case_reference-problem">[^<]*required', html), (
        "the problem is not beside the court case reference"
    )
    assert 'aria-invalid="true"' in html
    assert re.search(r'value="investigation"\s+selected', html)
    assert _holds(client, corridor, case_id) == []


def test_a_release_by_court_permission_needs_its_reference(
    client: TestClient, corridor: factories.Corridor
) -> None:
    case_id, reference = _launched(client, corridor)
    ngo = _signed_in(client, corridor.ngo.username)
    _send(
        ngo,
        f"/cases/{reference}/holds",
        f"/cases/{reference}/holds",
        court_case_reference="SC-2026-118",
        reason="court_order",
    )
    (hold,) = _holds(client, corridor, case_id)
    status, _, html = _send(
        ngo,
        f"/cases/{reference}/holds",
        f"/cases/{reference}/holds/{hold['id']}/release",
        basis="court_permission",
    )
    assert status == 422
    assert 'id="release-permission_reference-problem">name the court' in html
    assert re.search(r'value="court_permission"\s+selected', html)
    assert _holds(client, corridor, case_id)[0]["released_at"] is None


def test_a_hold_form_sent_twice_places_one_hold(
    client: TestClient, corridor: factories.Corridor, woken: list[uuid.UUID]
) -> None:
    case_id, reference = _launched(client, corridor)
    ngo = _signed_in(client, corridor.ngo.username)
    shown = ngo.get(f"/cases/{reference}/holds")
    form = {
        "csrf": csrf_of(shown.text),
        "idempotency_key": _key(shown.text),
        "court_case_reference": "SC-2026-118",
        "reason": "witness_in_trial",
    }
    first = ngo.post(f"/cases/{reference}/holds", data=form, follow_redirects=False)
    again = ngo.post(f"/cases/{reference}/holds", data=form, follow_redirects=False)
    assert (first.status_code, again.status_code) == (303, 303)
    assert again.headers["location"] == first.headers["location"]
    assert len(_holds(client, corridor, case_id)) == 1
    assert woken.count(uuid.UUID(case_id)) == 1 + 1  # the launch, then the hold once


def test_a_second_hold_is_a_conflict_page_linking_to_the_case(
    client: TestClient, corridor: factories.Corridor
) -> None:
    case_id, reference = _launched(client, corridor)
    ngo = _signed_in(client, corridor.ngo.username)
    stale = ngo.get(f"/cases/{reference}/holds")
    fields = {"court_case_reference": "SC-1", "reason": "investigation"}
    _send(ngo, f"/cases/{reference}/holds", f"/cases/{reference}/holds", **fields)
    answer = ngo.post(
        f"/cases/{reference}/holds",
        data={"csrf": csrf_of(stale.text), "idempotency_key": str(uuid.uuid4()), **fields},
    )
    assert answer.status_code == 409
    assert "already has an active legal hold" in answer.text
    assert f'href="/cases/{reference}"' in answer.text
    assert len(_holds(client, corridor, case_id)) == 1


def test_a_form_without_its_csrf_token_is_refused(
    client: TestClient, corridor: factories.Corridor
) -> None:
    case_id, reference = _launched(client, corridor)
    ngo = _signed_in(client, corridor.ngo.username)
    refused = [
        ngo.post(
            f"/cases/{reference}/holds",
            data={"court_case_reference": "SC-1", "reason": "investigation"},
        ),
        ngo.post(f"/cases/{reference}/consent", data={"data_sharing": "withdraw"}),
        ngo.post(f"/cases/{reference}/reopen", data={"reason": "re_trafficked"}),
        ngo.post(f"/cases/{reference}/transfers/revoke", data={"csrf": "not-the-token"}),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert "did not come from Homeward" in refused[0].text
    assert _holds(client, corridor, case_id) == []
    assert factories.case_of(client, corridor.ngo, case_id)["consent"]["data_sharing"] is True


def test_withdrawing_consent_halts_the_case_and_giving_it_resumes_it(
    client: TestClient, corridor: factories.Corridor, woken: list[uuid.UUID]
) -> None:
    case_id, reference = _launched(client, corridor)
    ngo = _signed_in(client, corridor.ngo.username)
    assert f'href="/cases/{reference}/consent"' in ngo.get(f"/cases/{reference}").text
    status, location, _ = _send(
        ngo, f"/cases/{reference}/consent", f"/cases/{reference}/consent", data_sharing="withdraw"
    )
    assert (status, location) == (303, f"/cases/{reference}?done=consent_recorded")
    case = factories.case_of(client, corridor.ngo, case_id)
    assert case["status"] == "halted"
    assert case["consent"] == {"repatriation": True, "data_sharing": False, "follow_up": True}
    assert woken[-1] == uuid.UUID(case_id)
    assert "Halted" in ngo.get(location).text

    status, _, _ = _send(
        ngo, f"/cases/{reference}/consent", f"/cases/{reference}/consent", data_sharing="give"
    )
    assert status == 303
    assert factories.case_of(client, corridor.ngo, case_id)["status"] == "open"


def test_a_consent_form_with_no_change_says_so(
    client: TestClient, corridor: factories.Corridor
) -> None:
    case_id, reference = _launched(client, corridor)
    ngo = _signed_in(client, corridor.ngo.username)
    status, _, html = _send(
        ngo, f"/cases/{reference}/consent", f"/cases/{reference}/consent", follow_up=""
    )
    assert status == 422
    assert "give at least one of repatriation, data_sharing, follow_up" in html
    assert factories.case_of(client, corridor.ngo, case_id)["status"] == "open"


def _closed(client: TestClient, c: factories.Corridor) -> str:
    """A case whose follow-ups all went well, closed by the flow."""
    case_id: str = factories.launch(client, c.ngo)["id"]
    factories.walk_to(client, c, case_id, TaskKind.record_follow_up)
    for task in factories.tasks_of(client, c.shelter, case_id, TaskKind.record_follow_up):
        done = factories.complete(client, c.shelter, task["id"], factories.follow_up())
        assert done.status_code == 200, done.text
    assert factories.advance(c.settings, case_id).ended
    return case_id


def test_a_closed_case_is_reopened_from_its_page(
    client: TestClient, corridor: factories.Corridor, woken: list[uuid.UUID]
) -> None:
    case_id = _closed(client, corridor)
    reference = _reference(client, corridor.ngo, case_id)
    ngo = _signed_in(client, corridor.ngo.username)
    assert f'href="/cases/{reference}/reopen"' in ngo.get(f"/cases/{reference}").text
    status, _, html = _send(ngo, f"/cases/{reference}/reopen", f"/cases/{reference}/reopen")
    assert status == 422
    assert 'id="reopen-reason-problem"' in html
    status, location, _ = _send(
        ngo,
        f"/cases/{reference}/reopen",
        f"/cases/{reference}/reopen",
        reason="re_trafficked",
        note="seen at the bus stand with a recruiter",
    )
    assert (status, location) == (303, f"/cases/{reference}?done=reopened")
    case = factories.case_of(client, corridor.ngo, case_id)
    assert (case["status"], case["stage"]) == ("open", "reintegration_followup")
    assert woken[-1] == uuid.UUID(case_id)
    reopened = ngo.get(location).text
    assert "The case is reopened" in reopened
    assert f'href="/cases/{reference}/reopen"' not in reopened

    # Once open, reopening again is a conflict, told as such.
    status, _, html = _send(
        ngo, f"/cases/{reference}/reopen", f"/cases/{reference}/reopen", reason="at_risk"
    )
    assert status == 409
    assert "only a closed case can be reopened" in html


def test_the_shelter_requests_and_revokes_a_transfer(
    client: TestClient, corridor: factories.Corridor, woken: list[uuid.UUID]
) -> None:
    c = corridor
    case_id: str = factories.launch(client, c.ngo)["id"]
    factories.walk_to(client, c, case_id, TaskKind.record_follow_up)
    reference = _reference(client, c.ngo, case_id)
    shelter = _signed_in(client, c.shelter.username)
    assert f'href="/cases/{reference}/transfers/new"' in shelter.get(f"/cases/{reference}").text
    form_page = shelter.get(f"/cases/{reference}/transfers/new")
    assert f'value="{c.other_shelter.agency_id}"' in form_page.text
    assert f'value="{c.shelter.agency_id}"' not in form_page.text  # not to itself

    status, _, html = _send(
        shelter,
        f"/cases/{reference}/transfers/new",
        f"/cases/{reference}/transfers",
        to_shelter_id=str(c.other_shelter.agency_id),
    )
    assert status == 422
    assert 'id="transfer-reason-problem"' in html
    assert re.search(rf'value="{c.other_shelter.agency_id}"\s+selected', html)

    status, location, _ = _send(
        shelter,
        f"/cases/{reference}/transfers/new",
        f"/cases/{reference}/transfers",
        to_shelter_id=str(c.other_shelter.agency_id),
        reason="closer to her mother's village",
    )
    assert (status, location) == (303, f"/cases/{reference}?done=transfer_requested")
    assert woken[-1] == uuid.UUID(case_id)
    task = factories.open_task(client, c.other_shelter, case_id, TaskKind.accept_transfer)
    assert task["context"]["reason"] == "closer to her mother's village"

    status, location, _ = _send(
        shelter, f"/cases/{reference}/transfers/new", f"/cases/{reference}/transfers/revoke"
    )
    assert (status, location) == (303, f"/cases/{reference}?done=transfer_revoked")
    assert factories.tasks_of(client, c.other_shelter, case_id, TaskKind.accept_transfer) == []
    assert "The transfer request is withdrawn" in shelter.get(location).text

    status, _, html = _send(
        shelter, f"/cases/{reference}/transfers/new", f"/cases/{reference}/transfers/revoke"
    )
    assert status == 409
    assert "no transfer of this case is pending" in html


def test_another_agency_gets_not_found_for_these_pages(
    client: TestClient, corridor: factories.Corridor
) -> None:
    case_id, reference = _launched(client, corridor)
    outsider = _signed_in(client, corridor.other_ngo.username)
    token = csrf_of(outsider.get("/inbox").text)
    gets = [
        outsider.get(f"/cases/{reference}/{path}")
        for path in ("holds", "consent", "reopen", "transfers/new")
    ]
    posts = [
        outsider.post(
            f"/cases/{reference}/holds",
            data={"csrf": token, "court_case_reference": "SC-1", "reason": "investigation"},
        ),
        outsider.post(
            f"/cases/{reference}/consent", data={"csrf": token, "data_sharing": "withdraw"}
        ),
        outsider.post(
            f"/cases/{reference}/reopen", data={"csrf": token, "reason": "re_trafficked"}
        ),
        outsider.post(f"/cases/{reference}/transfers/revoke", data={"csrf": token}),
        outsider.get("/cases/not-a-case/holds"),
    ]
    assert [r.status_code for r in gets + posts] == [404] * 9
    assert "Amina" not in "".join(r.text for r in gets + posts)
    assert _holds(client, corridor, case_id) == []
    assert factories.case_of(client, corridor.ngo, case_id)["status"] == "open"


def test_a_party_to_the_case_sees_no_action_it_may_not_take(
    client: TestClient, corridor: factories.Corridor
) -> None:
    case_id, reference = _launched(client, corridor)
    consul = _signed_in(client, corridor.consulate.username)
    case_page = consul.get(f"/cases/{reference}")
    assert case_page.status_code == 200
    assert f"/cases/{reference}/holds" not in case_page.text
    assert f"/cases/{reference}/consent" not in case_page.text
    assert consul.get(f"/cases/{reference}/holds").status_code == 403
    consent_page = consul.get(f"/cases/{reference}/consent")
    assert consent_page.status_code == 200
    assert f'action="/cases/{reference}/consent"' not in consent_page.text
    token = csrf_of(case_page.text)
    refused = consul.post(
        f"/cases/{reference}/consent", data={"csrf": token, "data_sharing": "withdraw"}
    )
    assert refused.status_code == 403
    assert factories.case_of(client, corridor.ngo, case_id)["status"] == "open"
