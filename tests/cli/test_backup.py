"""`homeward backup` and `homeward restore`, as an operator runs them, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session
from typer.testing import CliRunner

from cli.main import app
from core.crypto import Keyring, install_keyring, load_keyring, write_key_file
from core.db import engine_for
from core.settings import Settings
from models import Case
from models.migrations import upgrade
from tests.support.encrypted import read_back, seed
from tests.support.postgres import fresh_database

runner = CliRunner()

# Writes a case after case while a backup is taken; the backup must be one moment's state.
WRITER = """
import pathlib, sys
from sqlmodel import Session
from core.db import engine_for
from core.settings import Settings
from tests.notifications.factories import seed_case
stop, n = pathlib.Path(sys.argv[1]), 0
engine = engine_for(Settings().resolved_database_url)
while not stop.exists() and n < 2000:
    with Session(engine) as session:
        seed_case(session, notify_urls=[f"json://hooks.example.org/w{n}"])
        session.commit()
    n += 1
    if n == 1:
        print("ready", flush=True)
"""


@contextmanager
def operator(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, url: str, keyring: Keyring | None
) -> Iterator[Settings]:
    """The environment of one Homeward installation: its data directory, database and keys."""
    with monkeypatch.context() as patch:
        patch.setenv("HOMEWARD_DATA_DIR", str(data_dir))
        patch.setenv("HOMEWARD_DATABASE_URL", url)
        patch.delenv("HOMEWARD_ENCRYPTION_KEYS", raising=False)
        data_dir.mkdir(parents=True, exist_ok=True)
        if keyring is not None:
            write_key_file(data_dir / "encryption-keys", keyring)
        settings = Settings()
        previous = install_keyring(load_keyring(settings)) if keyring is not None else None
        try:
            yield settings
        finally:
            install_keyring(previous)


@pytest.fixture
def empty_target(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[str]:
    """A second database of the same backend, not even migrated: where a restore goes."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'homeward.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_server_url")) as url:
        yield url


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_restore_gives_back_every_value_with_the_key_ring_kept_apart(
    database_url: str, empty_target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring = Keyring.generate()
    backup_file = tmp_path / "homeward.backup"
    with operator(monkeypatch, tmp_path / "old", database_url, keyring):
        before = seed(database_url)
        result = invoke("backup", str(backup_file))
        assert result.exit_code == 0, result.output
        assert "7 cases (7 open), 7 agencies" in result.output
        assert "keep a copy of the key ring" in result.output
    assert backup_file.stat().st_mode & 0o077 == 0
    assert b"Khatun" not in backup_file.read_bytes()  # names are stored encrypted

    with operator(monkeypatch, tmp_path / "new", empty_target, keyring):
        result = invoke("restore", str(backup_file))
        assert result.exit_code == 0, result.output
        assert "Restored 7 cases" in result.output
        assert read_back(empty_target) == before


def test_a_backup_is_never_written_over(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_file = tmp_path / "homeward.backup"
    backup_file.write_text("an earlier backup")
    with operator(monkeypatch, tmp_path / "old", database_url, Keyring.generate()):
        result = invoke("backup", str(backup_file))
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert backup_file.read_text() == "an earlier backup"


def test_restore_refuses_a_database_that_holds_data(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring = Keyring.generate()
    backup_file = tmp_path / "homeward.backup"
    with operator(monkeypatch, tmp_path / "old", database_url, keyring):
        before = seed(database_url)
        assert invoke("backup", str(backup_file)).exit_code == 0
        result = invoke("restore", str(backup_file))
        assert result.exit_code == 2
        assert "already holds Homeward's tables" in result.output
        assert "Nothing was changed" in result.output
        assert read_back(database_url) == before


def test_restore_without_the_key_ring_puts_nothing_in_place(
    database_url: str, empty_target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_file = tmp_path / "homeward.backup"
    with operator(monkeypatch, tmp_path / "old", database_url, Keyring.generate()):
        seed(database_url)
        assert invoke("backup", str(backup_file)).exit_code == 0

    with operator(monkeypatch, tmp_path / "new", empty_target, None):
        result = invoke("restore", str(backup_file))
        assert result.exit_code == 2
        assert "there is no key ring" in result.output
        assert not (tmp_path / "new" / "encryption-keys").exists()  # none generated
    with operator(monkeypatch, tmp_path / "other", empty_target, Keyring.generate()):
        result = invoke("restore", str(backup_file))
        assert result.exit_code == 2
        assert "use the key ring that was kept with the backup" in result.output
    if empty_target.startswith("sqlite"):
        restored = Path(make_url(empty_target).database or "")
        assert not restored.exists()
        assert not list(restored.parent.glob("*.restoring"))


def test_restore_refuses_a_backup_of_the_other_database(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_file = tmp_path / "not-a-backup"
    backup_file.write_bytes(b"PGDMP" if database_url.startswith("sqlite") else b"SQLite...")
    with operator(monkeypatch, tmp_path / "new", database_url, Keyring.generate()):
        result = invoke("restore", str(backup_file))
    assert result.exit_code == 2
    assert "restores only into" in result.output


def test_sqlite_backup_while_homeward_writes_is_one_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'live' / 'homeward.db'}"
    keyring = Keyring.generate()
    stop = tmp_path / "stop"
    with operator(monkeypatch, tmp_path / "live", url, keyring) as settings:
        upgrade(url)
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(stop)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "HOMEWARD_DATA_DIR": str(settings.data_dir)},
        )
        try:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "ready"
            backups = [tmp_path / f"during-{n}.backup" for n in range(3)]
            for backup_file in backups:
                result = invoke("backup", str(backup_file))
                assert result.exit_code == 0, result.output
        finally:
            stop.touch()
            writer.wait(timeout=60)
        assert writer.returncode == 0
        with Session(engine_for(url)) as session:
            written = session.scalar(select(func.count()).select_from(Case)) or 0
    counts = []
    for n, backup_file in enumerate(backups):
        target = f"sqlite:///{tmp_path / f'restored-{n}' / 'homeward.db'}"
        with operator(monkeypatch, tmp_path / f"restored-{n}", target, keyring):
            result = invoke("restore", str(backup_file))
            assert result.exit_code == 0, result.output
            restored = read_back(target)
        # Each case came with its agency and survivor in one transaction: a copy of one
        # moment holds whole cases only, every value readable with the ring.
        assert len(restored["names"]) == len(restored["urls"])
        counts.append(len(restored["names"]))
    assert counts == sorted(counts)
    assert counts[0] > 0 and counts[-1] <= written
