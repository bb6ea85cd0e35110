"""Pages over a fresh SQLite database (the pages share the API's domain functions, whose
PostgreSQL behaviour tests/api covers), with a waker that only records."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.db import engine_for
from core.settings import Settings
from tests import factories

# The API's fixtures, over this directory's SQLite-only settings.
from tests.api.conftest import _hash_each_password_once, client, corridor, woken  # noqa: F401
from tests.support.sqlite import copy_of


@pytest.fixture
def settings(tmp_path: Path, migrated_sqlite_file: Path) -> Iterator[Settings]:
    url = copy_of(migrated_sqlite_file, tmp_path)
    yield Settings(
        data_dir=tmp_path,
        database_url=url,
        follow_up_days=(0, 0),
        jwt_secret=secrets.token_urlsafe(36),
    )
    engine_for(url).dispose()


CSRF = re.compile(r'name="csrf" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def sign_in(browser: TestClient, username: str) -> None:
    """Sign in through the login form, as a browser does (cookies kept by the client)."""
    form = browser.get("/login")
    assert form.status_code == 200
    answer = browser.post(
        "/login",
        data={
            "username": username,
            "password": factories.PASSWORD,
            "csrf": csrf_of(form.text),
            "next": "/inbox",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def browser(first: TestClient) -> TestClient:
    """Another browser on the same application as `first` (its own cookies)."""
    return TestClient(first.app)
