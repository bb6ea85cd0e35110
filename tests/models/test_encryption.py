"""Survivor names, task payloads and Apprise URLs are encrypted in the database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session, select

from core.clock import utcnow
from core.crypto import (
    DecryptionError,
    Keyring,
    UnknownKeyError,
    install_keyring,
    key_id_of,
    load_keyring,
    read_key_file,
    token_prefix,
)
from core.db import engine_for
from core.settings import Settings
from models import Agency, Case, Survivor, Task
from models.enums import TaskKind, TaskStatus
from models.migrations import alembic_config, upgrade
from notifications.outbox import claim
from tests.notifications.factories import FAMILY_NAME, GIVEN_NAME, queue_notice, seed_case
from tests.support.postgres import fresh_database

URLS = ["json://user:s3cret@hooks.example.org/homeward", "mailto://ops:pw@example.org"]
PAYLOAD = {"outcome": "at_risk", "notes": "lives with the uncle who sold her"}
REASON = {"decision": "rejected", "reason": "birth record held by the employer"}
# Where each plaintext must not appear: (table, column) of the encrypted columns.
ENCRYPTED = [
    ("survivor", "given_name"),
    ("survivor", "family_name"),
    ("agency", "notify_urls"),
    ("task", "payload"),
]


@pytest.fixture(autouse=True)
def keyring() -> Iterator[Keyring]:
    keyring = Keyring.generate()
    previous = install_keyring(keyring)
    yield keyring
    install_keyring(previous)


def raw_values(url: str, table: str, column: str) -> list[Any]:
    with engine_for(url).connect() as connection:
        # Cast: before revision 0004, PostgreSQL's driver would decode a JSON column itself.
        query = sa.select(sa.cast(sa.column(column), sa.Text())).select_from(sa.table(table))
        return list(connection.execute(query).scalars())


def seed_tasks(session: Session, case: Case, agency: Agency) -> None:
    due = utcnow() + timedelta(days=7)
    for kind, payload in [
        (TaskKind.verify_nationality, REASON),
        (TaskKind.record_follow_up, PAYLOAD),
        (TaskKind.accept_placement, None),
    ]:
        status = TaskStatus.open if payload is None else TaskStatus.done
        session.add(
            Task(
                case_id=case.id,
                kind=kind,
                agency_id=agency.id,
                status=status,
                due_at=due,
                payload=payload,
            )
        )
    session.commit()


def test_personal_fields_are_stored_encrypted_and_read_back(
    database_url: str, keyring: Keyring
) -> None:
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        agency, case = seed_case(session, notify_urls=URLS)
        seed_tasks(session, case, agency)

    plaintexts = [GIVEN_NAME, FAMILY_NAME, "s3cret", "hooks.example.org", "uncle", "employer"]
    for table, column in ENCRYPTED:
        stored = [v for v in raw_values(database_url, table, column) if v is not None]
        assert stored, (table, column)
        for value in stored:
            assert value.startswith(token_prefix(keyring.current.id)), (table, column)
            assert not any(text in value for text in plaintexts), (table, column)

    with Session(engine_for(database_url)) as session:
        survivor = session.exec(select(Survivor)).one()
        assert (survivor.given_name, survivor.family_name) == (GIVEN_NAME, FAMILY_NAME)
        assert session.exec(select(Agency)).one().notify_urls == URLS
        payloads = {t.kind: t.payload for t in session.exec(select(Task)).all()}
        assert payloads == {
            TaskKind.verify_nationality: REASON,
            TaskKind.record_follow_up: PAYLOAD,
            TaskKind.accept_placement: None,
        }


def test_a_task_without_payload_stores_null(database_url: str) -> None:
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        agency, case = seed_case(session, notify_urls=[])
        seed_tasks(session, case, agency)

    assert raw_values(database_url, "task", "payload").count(None) == 1


def test_the_outbox_reads_the_agencys_urls_through_the_model(database_url: str) -> None:
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        agency, case = seed_case(session, notify_urls=URLS)
        notification_id = queue_notice(session, agency, case, at=utcnow() - timedelta(minutes=1))
        claimed = claim(session, notification_id, now=utcnow(), claim_seconds=60)

    assert claimed is not None
    assert claimed.notify_urls == URLS and claimed.pending_urls == URLS


def test_a_value_under_a_key_this_process_lacks_fails_naming_the_key(database_url: str) -> None:
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        seed_case(session, notify_urls=URLS)
    writer = install_keyring(Keyring.generate())
    assert writer is not None

    with (
        Session(engine_for(database_url)) as session,
        pytest.raises(UnknownKeyError, match=writer.current.id) as raised,
    ):
        session.exec(select(Survivor)).one()

    assert GIVEN_NAME not in str(raised.value)


def test_a_value_altered_in_the_database_is_refused(database_url: str, keyring: Keyring) -> None:
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        seed_case(session, notify_urls=URLS)
    # Swapping the two names (both valid values under the same key) is noticed too.
    with engine_for(database_url).begin() as connection:
        connection.execute(sa.text("UPDATE survivor SET given_name = family_name"))

    with (
        Session(engine_for(database_url)) as session,
        pytest.raises(DecryptionError, match=keyring.current.id),
    ):
        session.exec(select(Survivor)).one()


@pytest.mark.parametrize(
    "condition",
    [
        lambda: Survivor.given_name == GIVEN_NAME,
        lambda: Survivor.family_name.like("Kha%"),
        lambda: Survivor.given_name.in_([GIVEN_NAME]),
        lambda: Agency.notify_urls != [],
        lambda: Task.payload["notes"],
    ],
)
def test_sql_cannot_filter_on_an_encrypted_column(condition: Any) -> None:
    with pytest.raises(TypeError, match="is encrypted"):
        condition()


def test_sql_can_still_tell_whether_an_encrypted_value_is_there(database_url: str) -> None:
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        agency, case = seed_case(session, notify_urls=[])
        seed_tasks(session, case, agency)
        without_payload = session.exec(select(Task).where(Task.payload == None)).all()  # noqa: E711

    assert [t.kind for t in without_payload] == [TaskKind.accept_placement]


# -- Migration 0004 on a database that holds rows written before it ---------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'homeward.db'}"
        yield url
        engine_for(url).dispose()
        return
    with fresh_database(request.getfixturevalue("postgres_server_url")) as url:
        yield url


def table(table_name: str, /, **columns: sa.types.TypeEngine[Any]) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(c, t) for c, t in columns.items()))


def insert_plaintext_rows(url: str) -> dict[str, uuid.UUID]:
    """Rows as revision 0003 stored them, written with SQL, not through the models."""
    ids = {name: uuid.uuid4() for name in ("agency", "user", "survivor", "case")}
    ids |= {"task_done": uuid.uuid4(), "task_open": uuid.uuid4(), "task_null": uuid.uuid4()}
    now = datetime(2026, 11, 1, tzinfo=UTC)

    uid, text, when, flag = sa.Uuid(), sa.Text(), sa.DateTime(timezone=True), sa.Boolean()
    agency = table(
        "agency", id=uid, name=text, kind=text, country=text, notify_urls=sa.JSON(), created_at=when
    )
    user = table(
        "user",
        id=uid,
        username=text,
        password_hash=text,
        agency_id=uid,
        role=text,
        is_active=flag,
        created_at=when,
    )
    survivor = table(
        "survivor",
        id=uid,
        given_name=text,
        family_name=text,
        sex=text,
        nationality=text,
        languages=sa.JSON(),
    )
    case = table(
        "case",
        id=uid,
        reference=text,
        survivor_id=uid,
        coordinator_agency_id=uid,
        created_by_user_id=uid,
        current_country=text,
        trafficking_status=text,
        consent_repatriation=flag,
        consent_data_sharing=flag,
        consent_follow_up=flag,
        stage=text,
        status=text,
        suspensions=sa.Integer(),
        created_at=when,
        updated_at=when,
    )
    task = table(
        "task",
        id=uid,
        case_id=uid,
        kind=text,
        round=sa.Integer(),
        agency_id=uid,
        status=text,
        opened_at=when,
        due_at=when,
        # As the old column type did, Python None is written as the JSON document `null`.
        payload=sa.JSON(),
    )
    with engine_for(url).begin() as connection:
        connection.execute(
            sa.insert(agency).values(
                id=ids["agency"], name="NGO", kind="ngo", country="IN", notify_urls=URLS,
                created_at=now,
            )
        )  # fmt: skip
        connection.execute(
            sa.insert(user).values(
                id=ids["user"], username="coordinator", password_hash="x",
                agency_id=ids["agency"], role="coordinator", is_active=True, created_at=now,
            )
        )  # fmt: skip
        connection.execute(
            sa.insert(survivor).values(
                id=ids["survivor"], given_name=GIVEN_NAME, family_name=FAMILY_NAME,
                sex="female", nationality="BD", languages=["bn"],
            )
        )  # fmt: skip
        connection.execute(
            sa.insert(case).values(
                id=ids["case"], reference="HW-TEST-0001", survivor_id=ids["survivor"],
                coordinator_agency_id=ids["agency"], created_by_user_id=ids["user"],
                current_country="IN", trafficking_status="actual", consent_repatriation=True,
                consent_data_sharing=True, consent_follow_up=True, stage="reintegration_followup",
                status="open", suspensions=0, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        for key, kind, status, payload in [
            ("task_done", "record_follow_up", "done", PAYLOAD),
            ("task_open", "verify_nationality", "open", sa.null()),
            ("task_null", "confirm_handover", "open", None),
        ]:
            connection.execute(
                sa.insert(task).values(
                    id=ids[key], case_id=ids["case"], kind=kind, round=1,
                    agency_id=ids["agency"], status=status, opened_at=now, due_at=now,
                    payload=payload,
                )
            )  # fmt: skip
    return ids


def test_upgrading_encrypts_the_rows_already_there(unmigrated_url: str, keyring: Keyring) -> None:
    upgrade(unmigrated_url, "0003")
    ids = insert_plaintext_rows(unmigrated_url)
    assert GIVEN_NAME in raw_values(unmigrated_url, "survivor", "given_name")
    assert raw_values(unmigrated_url, "task", "payload").count(None) == 1  # and one `null`

    upgrade(unmigrated_url)

    for table, column in ENCRYPTED:
        for value in raw_values(unmigrated_url, table, column):
            assert value is None or key_id_of(value) == keyring.current.id, (table, column)
    assert raw_values(unmigrated_url, "task", "payload").count(None) == 2
    with Session(engine_for(unmigrated_url)) as session:
        survivor = session.get_one(Survivor, ids["survivor"])
        assert (survivor.given_name, survivor.family_name) == (GIVEN_NAME, FAMILY_NAME)
        assert session.get_one(Agency, ids["agency"]).notify_urls == URLS
        assert session.get_one(Task, ids["task_done"]).payload == PAYLOAD
        assert session.get_one(Task, ids["task_open"]).payload is None
        assert session.get_one(Task, ids["task_null"]).payload is None
        # The rows that refer to the rebuilt tables still join to them.
        assert session.get_one(Case, ids["case"]).survivor_id == survivor.id


def test_upgrading_many_rows_encrypts_them_all(unmigrated_url: str) -> None:
    upgrade(unmigrated_url, "0003")
    agency = table(
        "agency",
        id=sa.Uuid(),
        name=sa.Text(),
        kind=sa.Text(),
        country=sa.Text(),
        notify_urls=sa.JSON(),
        created_at=sa.DateTime(timezone=True),
    )
    rows = [
        {
            "id": uuid.uuid4(),
            "name": f"Shelter {n}",
            "kind": "shelter",
            "country": "BD",
            "notify_urls": [f"json://hooks.example.org/{n}"],
            "created_at": utcnow(),
        }
        for n in range(1203)
    ]
    with engine_for(unmigrated_url).begin() as connection:
        connection.execute(sa.insert(agency), rows)

    upgrade(unmigrated_url)

    stored = raw_values(unmigrated_url, "agency", "notify_urls")
    assert len(stored) == 1203 and all(v.startswith("v1:") for v in stored)
    with Session(engine_for(unmigrated_url)) as session:
        urls = sorted(json.dumps(a.notify_urls) for a in session.exec(select(Agency)).all())
    assert urls == sorted(json.dumps(r["notify_urls"]) for r in rows)


def test_downgrading_past_the_encryption_is_refused(database_url: str) -> None:
    with pytest.raises(NotImplementedError, match="in the clear"):
        command.downgrade(alembic_config(database_url), "0003")


def test_a_shared_database_is_not_encrypted_with_a_key_generated_just_now(
    postgres_server_url: str, tmp_path: Path
) -> None:
    just_made = load_keyring(Settings(data_dir=tmp_path, database_url=postgres_server_url))
    assert just_made.generated
    install_keyring(just_made)
    with fresh_database(postgres_server_url) as url:
        upgrade(url, "0003")
        insert_plaintext_rows(url)

        with pytest.raises(RuntimeError, match="HOMEWARD_ENCRYPTION_KEYS"):
            upgrade(url)

        assert GIVEN_NAME in raw_values(url, "survivor", "given_name")
        with engine_for(url).connect() as connection:
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one() == "0003"
        install_keyring(read_key_file(tmp_path / "encryption-keys"))  # read, not generated
        upgrade(url)
        assert GIVEN_NAME not in raw_values(url, "survivor", "given_name")
