"""A real browser for the page tests: Playwright driving the system's Chromium.

Playwright downloads no browser here: scripts/install-system.sh installs Debian's
`chromium` (and `fonts-noto-core`, so that every script of the region renders), and
HOMEWARD_CHROMIUM names another binary if needed. Screenshots go to
HOMEWARD_SCREENSHOTS (default `artifacts/screenshots` in the checkout)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = os.environ.get("HOMEWARD_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get("HOMEWARD_SCREENSHOTS", Path(__file__).parents[2] / "artifacts" / "screenshots")
)
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            browser.close()


def person(browser: Browser, base_url: str) -> BrowserContext:
    """One person's browser: their own cookies and storage, nothing shared."""
    context = browser.new_context(base_url=base_url, viewport=WIDE)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


def sign_in(context: BrowserContext, username: str, password: str) -> Page:
    page = context.new_page()
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/inbox$"))
    return page


def screenshot(page: Page, name: str) -> None:
    """The page as it is now, at a desktop's width and at a small phone's."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.screenshot(path=str(SCREENSHOTS / f"{name}-360.png"), full_page=True)
    page.set_viewport_size(WIDE)  # type: ignore[arg-type]
