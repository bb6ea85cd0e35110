"""The audit table is append-only in the database itself: whatever the code does, a row once
written cannot be changed or removed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from core.clock import utcnow
from core.db import engine_for
from domain.audit import Action, record_audit

ROWS = "SELECT id, action, username, address, detail FROM audit_entry ORDER BY username"


def _two_entries(url: str) -> list[tuple[object, ...]]:
    with Session(engine_for(url)) as session:
        for username in ("first-user", "second-user"):
            record_audit(
                session,
                action=Action.login_failure,
                at=utcnow(),
                username=username,
                address="192.0.2.7",
                attempt=1,
            )
        session.commit()
    return _rows(url)


def _rows(url: str) -> list[tuple[object, ...]]:
    with engine_for(url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(ROWS))]


def _refused(url: str, statement: str) -> str:
    with pytest.raises(DBAPIError) as refusal, engine_for(url).begin() as connection:
        connection.execute(text(statement))
    return str(refusal.value)


def test_entries_are_appended_and_read_back(database_url: str) -> None:
    rows = _two_entries(database_url)

    assert [(action, username) for _, action, username, *_ in rows] == [
        ("login_failure", "first-user"),
        ("login_failure", "second-user"),
    ]
    assert {row[3] for row in rows} == {"192.0.2.7"}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET username = 'someone-else' WHERE username = 'first-user'",
        "UPDATE audit_entry SET detail = '{}'",
        "DELETE FROM audit_entry WHERE username = 'first-user'",
        "DELETE FROM audit_entry",
    ],
    ids=["update-one", "update-all", "delete-one", "delete-all"],
)
def test_the_database_refuses_to_change_or_remove_entries(
    database_url: str, statement: str
) -> None:
    before = _two_entries(database_url)

    refusal = _refused(database_url, statement)

    assert "audit_entry is append-only" in refusal
    assert _rows(database_url) == before


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_refuses_to_truncate_the_log(database_url: str) -> None:
    before = _two_entries(database_url)

    refusal = _refused(database_url, "TRUNCATE audit_entry")

    assert "audit_entry is append-only: TRUNCATE refused" in refusal
    assert _rows(database_url) == before
