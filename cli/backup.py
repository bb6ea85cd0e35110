"""`homeward backup` and `homeward restore`: Homeward's database, without its keys.

A backup holds personal data as it is stored, encrypted; the key ring that reads it is not
in the backup and must be kept apart from it, so that a lost backup reveals nothing. On
SQLite the backup is SQLite's online backup, taken while Homeward runs; on PostgreSQL it is
`pg_dump`'s custom format. Prefect's own database is not backed up: Homeward's database is
the source of truth, and a case whose flow run is unknown to Prefect gets a new one, which
replays from the database, when it is next woken.

A restore goes into an empty database only, checks that the configured key ring reads every
value of the backup before the data is put in place (on SQLite) or before it reports
success (on PostgreSQL), and applies the migrations of this version of Homeward.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlmodel import col

from cli.configuration import settings_or_exit
from cli.keys import count_by_key, stored_columns
from core.crypto import (
    KEYS_VARIABLE,
    EncryptionError,
    Keyring,
    install_keyring,
    key_file,
    load_keyring,
)
from core.db import engine_for
from core.settings import Settings
from models import Agency, Case
from models.enums import CaseStatus
from models.migrations import upgrade

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
POSTGRES_ROOT = Path("/usr/lib/postgresql")
# Tables whose rows make a database "not empty" for a restore.
HOMEWARD_TABLES = ("agency", "case", "alembic_version")


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says what to do."""


@dataclass(frozen=True)
class Contents:
    cases: int
    open_cases: int
    agencies: int


def backup(settings: Settings, destination: Path) -> Contents:
    """Write a consistent copy of the database to `destination` (never overwritten)."""
    if destination.exists():
        raise BackupError(f"{destination} already exists; give the backup a new file name")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    url = make_url(settings.resolved_database_url)
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
            contents = _contents(f"sqlite:///{partial.resolve()}")
        else:
            _pg_dump(url, partial)
            contents = _contents(settings.resolved_database_url)
        partial.chmod(0o600)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return contents


def restore(settings: Settings, source: Path) -> Contents:
    """Put the backup at `source` into the configured, empty database."""
    if not source.is_file():
        raise BackupError(f"there is no backup file at {source}")
    keyring = _keyring_for_restore(settings)
    url = make_url(settings.resolved_database_url)
    with source.open("rb") as handle:
        magic = handle.read(len(SQLITE_MAGIC))
    if url.get_backend_name() == "sqlite":
        if not magic.startswith(SQLITE_MAGIC):
            raise BackupError(
                f"{source} is not a backup of a SQLite database; a PostgreSQL backup "
                "restores only into PostgreSQL (set HOMEWARD_DATABASE_URL)"
            )
        target = _sqlite_path(url)
        _refuse_if_not_empty(settings.resolved_database_url, shown=str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        partial.unlink(missing_ok=True)
        try:
            _sqlite_backup(source, partial)
            partial_url = f"sqlite:///{partial.resolve()}"
            upgrade(partial_url)
            _check_keys(partial_url, keyring)
            _settle(partial)
            for leftover in (target, *_sqlite_sidecars(target)):
                leftover.unlink(missing_ok=True)  # an empty database file, at most
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    else:
        if not magic.startswith(PG_DUMP_MAGIC):
            raise BackupError(
                f"{source} is not a PostgreSQL backup of Homeward (made by `homeward backup` "
                "on PostgreSQL); a SQLite backup restores only into SQLite"
            )
        _refuse_if_not_empty(settings.resolved_database_url, shown=_shown(url))
        _pg_restore(url, source)
        upgrade(settings.resolved_database_url)
        _check_keys(settings.resolved_database_url, keyring)
    return _contents(settings.resolved_database_url)


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory; there is nothing on disk to back up")
    return Path(url.database)


def _sqlite_sidecars(path: Path) -> tuple[Path, ...]:
    return (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))


def _sqlite_backup(source: Path, destination: Path) -> None:
    """SQLite's online backup: a consistent copy while other processes read and write."""
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    # Opened read-only: a backup never creates, changes or locks out the source for writers
    # (in WAL mode, a reader and the writers go on side by side).
    with (
        sqlite3.connect(f"file:{source.resolve()}?mode=ro", uri=True, timeout=30) as reader,
        sqlite3.connect(destination) as writer,
    ):
        reader.backup(writer)
        writer.execute("PRAGMA journal_mode=DELETE")
        (verdict,) = writer.execute("PRAGMA integrity_check").fetchone()
    reader.close()
    writer.close()
    if verdict != "ok":
        raise BackupError(f"the copy of {source} failed SQLite's integrity check: {verdict}")


def _settle(path: Path) -> None:
    """Fold the write-ahead log into the file, so that renaming the file moves all of it."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    connection.close()
    for sidecar in _sqlite_sidecars(path):
        sidecar.unlink(missing_ok=True)


def _contents(url: str) -> Contents:
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            if "case" not in tables:
                return Contents(cases=0, open_cases=0, agencies=0)
            cases = connection.execute(select(func.count()).select_from(Case)).scalar_one()
            open_cases = connection.execute(
                select(func.count()).select_from(Case).where(col(Case.status) == CaseStatus.open)
            ).scalar_one()
            agencies = connection.execute(select(func.count()).select_from(Agency)).scalar_one()
    finally:
        engine.dispose()  # a file about to be renamed or removed keeps no connection
    return Contents(cases=cases, open_cases=open_cases, agencies=agencies)


def _refuse_if_not_empty(url: str, *, shown: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_path(parsed)
        if not path.exists():
            return
    engine = engine_for(url)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    found = [name for name in HOMEWARD_TABLES if name in tables]
    if found:
        raise BackupError(
            f"the database at {shown} already holds Homeward's tables ({', '.join(found)}); "
            "restore into a fresh data directory (HOMEWARD_DATA_DIR) or an empty database "
            "(HOMEWARD_DATABASE_URL). Nothing was changed."
        )
    engine.dispose()


def _keyring_for_restore(settings: Settings) -> Keyring:
    """The configured key ring; never one generated on the spot, which could read nothing."""
    if settings.encryption_keys is None and not key_file(settings).exists():
        raise BackupError(
            f"there is no key ring: a backup holds personal data encrypted, and only the key "
            f"ring kept apart from it reads it. Put that key file at {key_file(settings)} "
            f"(or set {KEYS_VARIABLE}) and run the restore again. Nothing was changed."
        )
    try:
        keyring = load_keyring(settings)
    except EncryptionError as error:
        raise BackupError(f"the key ring cannot be read: {error}. Nothing was changed.") from None
    install_keyring(keyring)
    return keyring


def _check_keys(url: str, keyring: Keyring) -> None:
    """Every encrypted value of the restored data is under a key of the ring and decrypts."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            counts = count_by_key(connection, keyring)
            unreadable = sum(counter["?"] for counter in counts.values())
            if unreadable == 0:
                for column in stored_columns():
                    sample = connection.execute(
                        select(column.value).where(column.value.is_not(None)).limit(1)
                    ).scalar_one_or_none()
                    if sample is not None:
                        keyring.decrypt(sample, context=column.name)
    except EncryptionError as error:
        raise BackupError(
            f"the key ring from {keyring.source} does not read this backup ({error}); "
            "use the key ring that was kept with it. Nothing was put in place."
        ) from None
    finally:
        engine.dispose()
    if unreadable:
        used = sorted(
            {key for counter in counts.values() for key, n in counter.items() if n and key != "?"}
        )
        raise BackupError(
            f"{unreadable} values of this backup are under keys the ring from "
            f"{keyring.source} does not hold (it holds {', '.join(keyring.ids)}"
            f"{'; the values it reads use ' + ', '.join(used) if used else ''}); use the key "
            "ring that was kept with the backup."
        )


def _pg_bin(name: str) -> str:
    """The newest installed PostgreSQL client program: pg_dump must be as new as the server."""
    candidates = sorted(
        POSTGRES_ROOT.glob(f"*/bin/{name}"),
        key=lambda path: [int(part) for part in path.parent.parent.name.split(".")],
    )
    if candidates:
        return str(candidates[-1])
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed; install PostgreSQL's client programs")
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL for libpq without its password, which goes in the environment instead (a
    command line is readable by every user of the machine)."""
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _shown(url: URL) -> str:
    return url.set(password=None).render_as_string(hide_password=True)


def _pg_dump(url: URL, destination: Path) -> None:
    dsn, environment = _libpq(url)
    _run(
        [_pg_bin("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
         f"--file={destination}", f"--dbname={dsn}"],
        environment,
        what=f"pg_dump of {_shown(url)}",
    )  # fmt: skip


def _pg_restore(url: URL, source: Path) -> None:
    dsn, environment = _libpq(url)
    _run(
        [_pg_bin("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", f"--dbname={dsn}", str(source)],
        environment,
        what=f"pg_restore into {_shown(url)}",
    )  # fmt: skip


def _run(command: list[str], environment: dict[str, str], *, what: str) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{what} failed: {last}")


def _describe(contents: Contents) -> str:
    cases = "case" if contents.cases == 1 else "cases"
    agencies = "agency" if contents.agencies == 1 else "agencies"
    return f"{contents.cases} {cases} ({contents.open_cases} open), {contents.agencies} {agencies}"


def backup_command(
    destination: Annotated[Path, typer.Argument(help="The file to write; never overwritten.")],
) -> None:
    """Back up Homeward's database while it runs (the key ring is kept apart)."""
    settings = settings_or_exit()
    try:
        contents = backup(settings, destination)
    except BackupError as error:
        typer.echo(f"Backup failed: {error}", err=True)
        raise typer.Exit(2) from None
    keys = KEYS_VARIABLE if settings.encryption_keys is not None else key_file(settings)
    typer.echo(f"Backed up {_describe(contents)} to {destination}.")
    typer.echo(
        "The backup holds personal data encrypted and no keys: keep a copy of the key ring "
        f"({keys}) in a separate safe place; a restore needs both."
    )


def restore_command(
    source: Annotated[Path, typer.Argument(help="A file written by `homeward backup`.")],
) -> None:
    """Restore a backup into an empty database (a fresh data directory, or a new database)."""
    settings = settings_or_exit()
    try:
        contents = restore(settings, source)
    except BackupError as error:
        typer.echo(f"Restore failed: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Restored {_describe(contents)} from {source}.")
    typer.echo(
        "Start Homeward as usual (`homeward up`): open cases carry on where the backup left "
        "them, each getting a new flow run when it is next woken."
    )
