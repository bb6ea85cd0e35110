"""A whole case walked in a real browser, each agency's person in their own browser, on the
real stack (Prefect server, runner, API): launch → verify → plan → accept → depart →
handover → follow-ups → closed. Screenshots of every page go to artifacts/screenshots."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import chromium, person, screenshot, sign_in
from tests.support.live import PASSWORD, Live, eventually, one_of_many

pytestmark = pytest.mark.stack

FAMILY_NAME = "Begum-Browser"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def wait_for_task(page: Page, reference: str, task: str, timeout: float = 90) -> None:
    """Open the inbox until the case's task is there (the flow run opens it), then open it."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto("/inbox")
        link = page.locator("tr", has_text=reference).get_by_role("link", name=task)
        if link.count():
            link.first.click()
            page.wait_for_url(re.compile(r".*/tasks/[0-9a-f-]{36}"))
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{task} of {reference} did not reach the inbox")
        time.sleep(1)


def record(page: Page) -> None:
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Recorded.", exact=False).first).to_be_visible()


def link_in_message(live: Live, agency: str, reference: str) -> str:
    found: list[str] = []

    def arrived() -> bool:
        for message in live.sink.messages(agency):
            match = re.search(r"Open the task: (\S+)", str(message["body"]))
            if reference in str(message["title"]) and match:
                found.append(match.group(1))
                return True
        return False

    eventually(arrived, 60, f"the task notification to {agency}")
    return found[0]


def test_a_case_walked_in_the_browser_by_every_agency(live: Live, browser: Browser) -> None:
    base = live.stack.api_url
    family_name = one_of_many(FAMILY_NAME)

    # The coordinator launches the case.
    coordinator = sign_in(person(browser, base), "coordinator", PASSWORD)
    screenshot(coordinator, "inbox-coordinator")
    coordinator.get_by_role("link", name="Launch a case").click()
    screenshot(coordinator, "launch-form")
    coordinator.get_by_label("Given name").fill("Amina")
    coordinator.get_by_label("Family name").fill(family_name)
    coordinator.get_by_label("Sex").select_option("female")
    coordinator.get_by_label("Birth date").fill("2001-03-04")
    coordinator.get_by_label("Nationality").select_option("BD")
    coordinator.get_by_label("Languages the survivor speaks").fill("bn, hi")
    coordinator.get_by_label("Country where the survivor is now").select_option("IN")
    coordinator.get_by_label("Identified as trafficked").check()
    coordinator.get_by_label(re.compile("^To go home")).check()
    coordinator.get_by_label(re.compile("^To share their details")).check()
    coordinator.get_by_label(re.compile("^To be visited")).check()
    coordinator.get_by_role("button", name="Launch the case").click()
    coordinator.wait_for_url(re.compile(r".*/cases/HW-[A-Z0-9-]+\?launched=1"))
    reference = re.search(r"/cases/(HW-[A-Z0-9-]+)", coordinator.url).group(1)  # type: ignore[union-attr]
    expect(coordinator.get_by_text("The case is launched")).to_be_visible()
    screenshot(coordinator, "case-launched")

    # The consulate opens the link its notification carries and approves.
    consul_context = person(browser, base)
    link = link_in_message(live, "consul", reference)
    assert link.startswith(base)
    consul = consul_context.new_page()
    consul.goto(link)
    expect(consul).to_have_url(re.compile(r".*/login\?next="))
    consul.get_by_label("Username").fill("consul")
    consul.get_by_label("Password").fill(PASSWORD)
    consul.get_by_role("button", name="Sign in").click()
    consul.wait_for_url(re.compile(r".*/tasks/[0-9a-f-]{36}$"))
    expect(consul.get_by_role("heading", name="Verify nationality")).to_be_visible()
    expect(consul.get_by_text(family_name)).to_be_visible()  # the identity it verifies
    consul.get_by_label("Nationality confirmed: issue the travel document").check()
    consul.get_by_label("Travel document number").fill("TP-0012345")
    consul.get_by_label("Travel document valid until").fill(f"{date.today().year + 2}-06-30")
    screenshot(consul, "task-verify-nationality")
    record(consul)
    screenshot(consul, "task-recorded")

    # The coordinator plans the journey.
    wait_for_task(coordinator, reference, "Plan transport")
    coordinator.get_by_label("Travel date").fill(date.today().isoformat())
    coordinator.get_by_label("Travel by").select_option("road")
    coordinator.get_by_label("Border crossing or port").fill("Petrapole-Benapole")
    coordinator.get_by_label("Escort", exact=True).select_option(live.agencies["escort"])
    coordinator.get_by_label("Receiving shelter").select_option(live.agencies["shelter"])
    screenshot(coordinator, "task-plan-transport")
    record(coordinator)

    # The shelter accepts the placement, seeing its places.
    shelter = sign_in(person(browser, base), "shelter", PASSWORD)
    wait_for_task(shelter, reference, "Accept placement")
    expect(shelter.get_by_text(re.compile(r"places taken"))).to_be_visible()
    shelter.get_by_label("Accept the placement").check()
    screenshot(shelter, "task-accept-placement")
    record(shelter)

    # The escort confirms the departure: no name, no birth date.
    escort = sign_in(person(browser, base), "escort", PASSWORD)
    wait_for_task(escort, reference, "Confirm departure")
    text = escort.locator("main").inner_text()
    assert "Amina" not in text and family_name not in text and "2001-03-04" not in text
    expect(escort.get_by_text("Age band")).to_be_visible()
    assert escort.get_by_label("Departed at").input_value()  # prefilled with now
    screenshot(escort, "task-confirm-departure")
    record(escort)

    # The shelter confirms the handover and records both follow-ups.
    wait_for_task(shelter, reference, "Confirm handover")
    screenshot(shelter, "task-confirm-handover")
    record(shelter)
    for round_ in (1, 2):
        wait_for_task(shelter, reference, "Record follow-up")
        shelter.get_by_label("How is the survivor doing?").select_option("reintegrating")
        if round_ == 1:
            screenshot(shelter, "task-record-follow-up")
        record(shelter)

    case_id = live.get("coordinator", "/cases", reference=reference)[0]["id"]
    live.wait_case(case_id, lambda c: c["status"] == "closed", "the case to close", timeout=90)
    coordinator.goto(f"/cases/{reference}")
    expect(coordinator.locator("main")).to_contain_text("Closed")
    expect(coordinator.get_by_role("heading", name="Who read or changed this case")).to_be_visible()
    screenshot(coordinator, "case-closed")
    coordinator.goto("/cases")
    screenshot(coordinator, "case-list")


def test_a_draft_survives_a_reload_and_an_offline_send_is_held(
    live: Live, browser: Browser
) -> None:
    base = live.stack.api_url
    coordinator = sign_in(person(browser, base), "coordinator", PASSWORD)
    coordinator.goto("/cases/new")
    coordinator.get_by_label("Given name").fill("Draft-kept")
    coordinator.reload()
    expect(coordinator.get_by_label("Given name")).to_have_value("Draft-kept")
    expect(coordinator.get_by_text("Not sent yet")).to_be_visible()

    coordinator.context.set_offline(True)
    coordinator.get_by_role("button", name="Launch the case").click()
    expect(coordinator.locator("#offline-notice")).to_be_visible()
    screenshot(coordinator, "launch-offline")
    coordinator.context.set_offline(False)
    expect(coordinator.get_by_label("Given name")).to_have_value("Draft-kept")

    # Signing out removes the drafts kept on the device.
    coordinator.get_by_role("button", name="Sign out").click()
    coordinator.wait_for_url(re.compile(r".*/login\?signed_out=1"))
    screenshot(coordinator, "signed-out")
    sign_in(coordinator.context, "coordinator", PASSWORD).goto("/cases/new")
    page = coordinator.context.pages[-1]
    expect(page.get_by_label("Given name")).to_have_value("")


def test_pages_in_urdu_read_right_to_left_and_in_bengali_with_its_digits(
    live: Live, browser: Browser
) -> None:
    shelter = sign_in(person(browser, live.stack.api_url), "shelter", PASSWORD)
    shelter.get_by_label("Language").select_option("ur")
    shelter.locator("form.language button").click()
    expect(shelter.locator("html")).to_have_attribute("dir", "rtl")
    expect(shelter.locator("html")).to_have_attribute("lang", "ur")
    screenshot(shelter, "inbox-urdu")
    shelter.goto("/cases")
    screenshot(shelter, "case-list-urdu")
    shelter.locator("#language-choice").select_option("bn")
    shelter.locator("#native-digits").check()
    shelter.locator("form.language button").click()
    expect(shelter.locator("html")).to_have_attribute("lang", "bn")
    expect(shelter.locator("html")).to_have_attribute("dir", "ltr")
    screenshot(shelter, "case-list-bengali")
    # Back to English for the other tests of this stack's shelter.
    shelter.locator("#language-choice").select_option("en")
    shelter.locator("#native-digits").uncheck()
    shelter.locator("form.language button").click()
    expect(shelter.locator("html")).to_have_attribute("lang", "en")
