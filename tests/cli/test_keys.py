"""`homeward keys`: status, rotate, reencrypt and retire, as an operator runs them."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli.main import app
from core.crypto import (
    Keyring,
    install_keyring,
    key_id_of,
    load_keyring,
    read_key_file,
    write_key_file,
)
from core.db import engine_for
from core.settings import Settings
from tests.support.encrypted import CASES, read_back, seed

runner = CliRunner()
ENCRYPTED = [
    ("survivor", "given_name"),
    ("survivor", "family_name"),
    ("agency", "notify_urls"),
    ("task", "payload"),
]


# Runs while `keys rotate` re-encrypts: reads every survivor and renames one, again and
# again, each time in its own transaction, with the ring it loaded before the rotation.
WRITER = """
import pathlib, sys
from sqlmodel import select
from core.db import session_scope
from core.settings import Settings
from models import Survivor
stop, n = pathlib.Path(sys.argv[1]), 0
while not stop.exists():
    with session_scope(Settings().resolved_database_url) as session:
        survivors = session.exec(select(Survivor)).all()
        assert {s.family_name for s in survivors} == {"Khatun"}
        survivors[n % len(survivors)].given_name = f"Rupali {n}"
    n += 1
    if n == 1:
        print("ready", flush=True)
print(n, flush=True)
"""


@pytest.fixture(autouse=True)
def _no_wait_for_other_processes(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rotation waits for running processes to see the new key; most tests run none."""
    if "another_process" not in request.node.name:
        monkeypatch.setattr("cli.keys.SWITCH_SECONDS", 0.0)


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The operator's environment: a data directory and a database, keys in the file."""
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOMEWARD_DATABASE_URL", database_url)
    monkeypatch.delenv("HOMEWARD_ENCRYPTION_KEYS", raising=False)
    settings = Settings()
    previous = install_keyring(load_keyring(settings))
    yield settings
    install_keyring(previous)


def stored_key_ids(url: str) -> dict[str, set[str]]:
    """The key id of every value in the encrypted columns, read with SQL."""
    found: dict[str, set[str]] = {}
    with engine_for(url).connect() as connection:
        for table, column in ENCRYPTED:
            query = sa.select(sa.column(column, sa.Text())).select_from(sa.table(table))
            values = [v for v in connection.execute(query).scalars() if v is not None]
            assert len(values) == CASES, (table, column)
            found[f"{table}.{column}"] = {key_id_of(v) for v in values}
    return found


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["keys", *args])


def test_rotate_reencrypts_every_value_under_a_new_key(env: Settings) -> None:
    url = env.resolved_database_url
    before = seed(url)
    old = read_key_file(env.data_dir / "encryption-keys").current.id

    result = invoke("rotate", "--batch-size", "3")

    assert result.exit_code == 0, result.output
    ring = read_key_file(env.data_dir / "encryption-keys")
    new = ring.current.id
    assert ring.ids == (new, old)
    assert stored_key_ids(url) == {f"{t}.{c}": {new} for t, c in ENCRYPTED}
    assert f"Every stored value is under key {new}" in result.output
    assert f"homeward keys retire {old}" in result.output
    install_keyring(load_keyring(Settings()))
    assert read_back(url) == before


def test_values_rotated_under_a_running_process_are_read_after_it_sees_the_file(
    env: Settings,
) -> None:
    url = env.resolved_database_url
    before = seed(url)
    started_before = read_key_file(env.data_dir / "encryption-keys")

    assert invoke("rotate").exit_code == 0
    install_keyring(started_before)  # as in a process that loaded the ring before

    assert read_back(url) == before


def test_rotation_runs_while_another_process_reads_and_writes(
    env: Settings, tmp_path: Path
) -> None:
    """The writer (another process, as the API or a flow run) sees no error throughout."""
    url = env.resolved_database_url
    before = seed(url)
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        result = invoke("rotate", "--batch-size", "2")
    finally:
        stop.touch()
        output, errors = writer.communicate(timeout=60)

    assert writer.returncode == 0, errors
    assert int(output) > 1
    assert result.exit_code == 0, result.output
    new = read_key_file(env.data_dir / "encryption-keys").current.id
    assert stored_key_ids(url) == {f"{t}.{c}": {new} for t, c in ENCRYPTED}
    after = read_back(url)
    assert after["urls"] == before["urls"] and after["notes"] == before["notes"]
    assert {family for _, family in after["names"]} == {"Khatun"}


def test_status_shows_how_many_values_each_key_protects(env: Settings) -> None:
    seed(env.resolved_database_url)
    first = read_key_file(env.data_dir / "encryption-keys").current.id

    result = invoke("status")

    assert result.exit_code == 0, result.output
    assert re.search(rf"{first}\s+{4 * CASES} values\s+current", result.output)
    assert f"survivor.given_name {CASES}" in result.output
    assert "UNREADABLE" not in result.output


def test_a_key_is_retired_only_once_no_value_uses_it(env: Settings) -> None:
    url = env.resolved_database_url
    before = seed(url)
    path = env.data_dir / "encryption-keys"
    old = read_key_file(path).current.id
    # A new current key, with nothing re-encrypted yet (as after an interrupted rotation).
    write_key_file(path, read_key_file(path).with_new_key())
    new = read_key_file(path).current.id

    current = invoke("retire", new)
    in_use = invoke("retire", old)
    unknown = invoke("retire", "no-such-key")

    assert current.exit_code == 1 and "rotate first" in current.output
    assert in_use.exit_code == 1 and f"{4 * CASES} stored values still use key {old}" in (
        in_use.output
    )
    assert unknown.exit_code == 1 and "There is no key 'no-such-key'" in unknown.output
    assert read_key_file(path).ids == (new, old)

    assert invoke("reencrypt", "--batch-size", "2").exit_code == 0
    retired = invoke("retire", old)

    assert retired.exit_code == 0, retired.output
    assert read_key_file(path).ids == (new,)
    assert old not in path.read_text()
    install_keyring(read_key_file(path))
    assert read_back(url) == before


def test_rings_from_the_environment_are_rotated_by_the_operator(
    env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = env.resolved_database_url
    configured = Keyring.generate()
    monkeypatch.setenv("HOMEWARD_ENCRYPTION_KEYS", configured.serialize())
    install_keyring(load_keyring(Settings()))
    before = seed(url)

    result = invoke("rotate")

    assert result.exit_code == 1
    assert "Nothing was changed" in result.output
    decrypting, current = re.findall(r"HOMEWARD_ENCRYPTION_KEYS=(\S+)", result.output)
    assert Keyring.parse(decrypting, source="step 1").ids[0] == configured.current.id
    new = Keyring.parse(current, source="step 2").current.id
    assert Keyring.parse(current, source="step 2").ids == (new, configured.current.id)
    assert stored_key_ids(url) == {f"{t}.{c}": {configured.current.id} for t, c in ENCRYPTED}

    # The operator sets the value of step 2 everywhere, then re-encrypts.
    monkeypatch.setenv("HOMEWARD_ENCRYPTION_KEYS", current)
    result = invoke("reencrypt", "--batch-size", "3")

    assert result.exit_code == 0, result.output
    assert stored_key_ids(url) == {f"{t}.{c}": {new} for t, c in ENCRYPTED}
    assert read_back(url) == before


def test_rotation_stops_at_a_value_no_key_reads_and_names_where_it_is(env: Settings) -> None:
    url = env.resolved_database_url
    seed(url)
    stranger = Keyring.generate().encrypt("Someone", context="survivor.given_name")
    with engine_for(url).begin() as connection:
        row_id = connection.execute(sa.text("SELECT id FROM survivor LIMIT 1")).scalar_one()
        connection.execute(
            sa.text("UPDATE survivor SET given_name = :value WHERE id = :id"),
            {"value": stranger, "id": row_id},
        )

    result = invoke("rotate")

    assert result.exit_code == 1
    assert "Re-encryption stopped" in result.output and "survivor.given_name" in result.output
    assert key_id_of(stranger) in result.output and "Someone" not in result.output
    assert "homeward keys reencrypt" in result.output
    status = invoke("status")
    assert status.exit_code == 1
    assert "under no key of this ring 1 values UNREADABLE" in " ".join(status.output.split())


def test_generate_prints_a_ring_for_the_environment_and_stores_nothing(env: Settings) -> None:
    before = sorted(p.name for p in env.data_dir.iterdir())

    result = invoke("generate")

    assert result.exit_code == 0, result.output
    keyring = Keyring.parse(result.output, source="output")
    assert len(keyring.ids) == 1
    assert sorted(p.name for p in env.data_dir.iterdir()) == before


def test_a_malformed_configured_ring_stops_the_command_without_quoting_it(
    env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEWARD_ENCRYPTION_KEYS", "k1:dG9vLXNob3J0")

    result = invoke("status")

    assert result.exit_code == 2
    assert "HOMEWARD_ENCRYPTION_KEYS" in result.output and "dG9vLXNob3J0" not in result.output
