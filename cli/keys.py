"""`homeward keys`: the keys that encrypt personal data at rest, and moving data between them.

Rotation never stops Homeward: the new key joins the ring in front of the old ones, running
processes read the changed key file on their own, and values are re-encrypted in small
batches, each its own transaction. Old and new keys both decrypt throughout.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from sqlalchemy import Text, and_, func, select, table, update
from sqlalchemy import column as sql_column
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import ColumnClause, TableClause
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table, and with them every encrypted column)
from cli.configuration import settings_or_exit
from core.crypto import (
    KEYS_VARIABLE,
    RELOAD_CHECK_SECONDS,
    EncryptionError,
    Keyring,
    install_keyring,
    key_file_lock,
    load_keyring,
    new_key,
    read_key_file,
    token_prefix,
    write_key_file,
)
from core.db import engine_for
from core.settings import Settings
from models.migrations import upgrade
from models.types import encrypted_columns, encryption_context

keys_app = typer.Typer(
    help="Keys encrypting survivor names, notes and notification URLs at rest.",
    no_args_is_help=True,
)

BatchSize = Annotated[int, typer.Option(min=1, help="Values re-encrypted per transaction.")]
# Running processes look at the key file at most a second apart (core.crypto): rotation
# waits that long for all of them to encrypt with the new key before re-encrypting, and a
# pass that still finds values written under an old key meanwhile waits before another.
SWITCH_SECONDS = RELOAD_CHECK_SECONDS + 0.5
PASSES = 5


@dataclass(frozen=True)
class EncryptedColumn:
    """One encrypted column, seen as the plain text the database holds."""

    name: str  # "table.column", also the context bound into each value
    table: TableClause
    id: ColumnClause[Any]
    value: ColumnClause[Any]


def stored_columns() -> list[EncryptedColumn]:
    found = []
    for model_column in encrypted_columns(SQLModel.metadata):
        primary_key = list(model_column.table.primary_key.columns)
        assert len(primary_key) == 1, f"{model_column.table.name} needs a one-column key"
        raw = table(
            model_column.table.name,
            sql_column(primary_key[0].name, primary_key[0].type),
            sql_column(model_column.name, Text()),  # the stored text, not decrypted
        )
        found.append(
            EncryptedColumn(
                encryption_context(model_column),
                raw,
                raw.c[primary_key[0].name],
                raw.c[model_column.name],
            )
        )
    return found


def count_by_key(connection: Connection, keyring: Keyring) -> dict[str, Counter[str]]:
    """Per column, how many values each key of the ring protects; "?" counts the rest."""
    counts: dict[str, Counter[str]] = {}
    for column in stored_columns():
        counter: Counter[str] = Counter()
        total = connection.execute(
            select(func.count()).select_from(column.table).where(column.value.is_not(None))
        ).scalar_one()
        for key_id in keyring.ids:
            prefix = token_prefix(key_id)
            counter[key_id] = connection.execute(
                select(func.count())
                .select_from(column.table)
                .where(func.substr(column.value, 1, len(prefix)) == prefix)
            ).scalar_one()
        counter["?"] = total - sum(counter.values())
        counts[column.name] = counter
    return counts


def reencrypt(url: str, keyring: Keyring, *, batch_size: int = 500) -> Counter[str]:
    """Re-encrypt every value not under the ring's current key; the count per column.

    Each batch is one short transaction; a row changed by someone else since it was read
    is left alone (compare-and-set), and a later pass picks it up if it still needs it.
    """
    engine = engine_for(url)
    prefix = token_prefix(keyring.current.id)
    done: Counter[str] = Counter()
    for attempt in range(PASSES):
        left = 0
        for column in stored_columns():
            stale = and_(
                column.value.is_not(None),
                func.substr(column.value, 1, len(prefix)) != prefix,
            )
            last = None
            while True:
                with engine.begin() as connection:
                    query = select(column.id, column.value).where(stale)
                    if last is not None:
                        query = query.where(column.id > last)
                    rows = connection.execute(query.order_by(column.id).limit(batch_size)).all()
                    for row_id, stored in rows:
                        try:
                            plaintext = keyring.decrypt(stored, context=column.name)
                        except EncryptionError as error:
                            raise EncryptionError(f"{error} (row {row_id})") from error
                        fresh = keyring.encrypt(plaintext, context=column.name)
                        changed = connection.execute(
                            update(column.table)
                            .where(column.id == row_id, column.value == stored)
                            .values({column.value.name: fresh})
                        )
                        done[column.name] += changed.rowcount
                if len(rows) < batch_size:
                    break
                last = rows[-1][0]
            with engine.connect() as connection:
                left += connection.execute(
                    select(func.count()).select_from(column.table).where(stale)
                ).scalar_one()
        if left == 0:
            break
        if attempt < PASSES - 1:
            time.sleep(SWITCH_SECONDS)
    return done


def _keyring(settings: Settings) -> Keyring:
    try:
        keyring = load_keyring(settings)
    except EncryptionError as error:
        typer.echo(f"Key ring error: {error}", err=True)
        raise typer.Exit(2) from None
    install_keyring(keyring)
    return keyring


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


@keys_app.command("generate")
def generate() -> None:
    """Print a new key ring for HOMEWARD_ENCRYPTION_KEYS; nothing is stored."""
    typer.echo(Keyring.generate().serialize())


@keys_app.command("status")
def status() -> None:
    """Show the keys in the ring and how many values each protects (exit 1: some unreadable)."""
    settings = settings_or_exit()
    keyring = _keyring(settings)
    upgrade(settings.resolved_database_url)
    with engine_for(settings.resolved_database_url).connect() as connection:
        counts = count_by_key(connection, keyring)
    totals = sum(counts.values(), Counter[str]())
    typer.echo(f"Key ring from {keyring.source} (the first key encrypts, every key decrypts):")
    for key_id in keyring.ids:
        current = "  current" if key_id == keyring.current.id else ""
        typer.echo(f"  {key_id:<24} {totals[key_id]:>8} values{current}")
    if totals["?"]:
        typer.echo(f"  {'under no key of this ring':<24} {totals['?']:>8} values  UNREADABLE")
    per_column = ", ".join(f"{name} {sum(c.values())}" for name, c in counts.items())
    typer.echo(f"Values per column: {per_column}")
    if totals["?"]:
        raise typer.Exit(1)


@keys_app.command("rotate")
def rotate(batch_size: BatchSize = 500) -> None:
    """Make a new key current and re-encrypt every value with it, while Homeward runs."""
    settings = settings_or_exit()
    keyring = _keyring(settings)
    if keyring.path is None:
        _print_environment_rotation(keyring)
        raise typer.Exit(1)
    upgrade(settings.resolved_database_url)
    path = keyring.path
    with key_file_lock(path):
        keyring = read_key_file(path).with_new_key()
        write_key_file(path, keyring)
    install_keyring(keyring)
    old = ", ".join(keyring.ids[1:])
    typer.echo(f"Key {keyring.current.id} is now current in {path}; {old} still decrypt.")
    time.sleep(SWITCH_SECONDS)
    _reencrypt_and_report(settings, keyring, batch_size)
    typer.echo(
        f"Old keys stay in the ring until you retire them: homeward keys retire {keyring.ids[1]}"
    )


@keys_app.command("reencrypt")
def reencrypt_command(batch_size: BatchSize = 500) -> None:
    """Re-encrypt the values not under the current key (after a change of keys, or to finish)."""
    settings = settings_or_exit()
    keyring = _keyring(settings)
    upgrade(settings.resolved_database_url)
    _reencrypt_and_report(settings, keyring, batch_size)


@keys_app.command("retire")
def retire(key_id: str) -> None:
    """Remove a key from the ring; refused while any stored value still uses it."""
    settings = settings_or_exit()
    keyring = _keyring(settings)
    if key_id not in keyring.ids:
        raise _fail(f"There is no key {key_id!r} in the ring ({', '.join(keyring.ids)}).")
    if key_id == keyring.current.id:
        raise _fail(f"Key {key_id} is current; rotate first, then retire it.")
    upgrade(settings.resolved_database_url)
    with engine_for(settings.resolved_database_url).connect() as connection:
        in_use = sum(counter[key_id] for counter in count_by_key(connection, keyring).values())
    if in_use:
        raise _fail(
            f"{in_use} stored values still use key {key_id}; run `homeward keys reencrypt` "
            "first. Nothing was changed."
        )
    if keyring.path is None:
        typer.echo(
            f"No value uses key {key_id}. Keys come from {KEYS_VARIABLE}, which this command "
            "cannot change: set it to the following on every Homeward process and restart:"
        )
        typer.echo(f"  {KEYS_VARIABLE}={keyring.without(key_id).serialize()}")
        raise typer.Exit(1)
    path = keyring.path
    with key_file_lock(path):
        keyring = read_key_file(path).without(key_id)
        write_key_file(path, keyring)
    install_keyring(keyring)
    typer.echo(f"Key {key_id} retired; the ring holds {', '.join(keyring.ids)}.")


def _reencrypt_and_report(settings: Settings, keyring: Keyring, batch_size: int) -> None:
    try:
        done = reencrypt(settings.resolved_database_url, keyring, batch_size=batch_size)
    except EncryptionError as error:
        raise _fail(
            f"Re-encryption stopped: {error}. The values done so far stay done; fix the "
            "ring and run `homeward keys reencrypt`."
        ) from None
    for name in (column.name for column in stored_columns()):
        typer.echo(f"  {name:<22} {done[name]:>8} re-encrypted")
    with engine_for(settings.resolved_database_url).connect() as connection:
        counts = count_by_key(connection, keyring)
    left = sum(n for c in counts.values() for k, n in c.items() if k != keyring.current.id)
    if left:
        raise _fail(
            f"{left} values are still not under key {keyring.current.id} (written meanwhile "
            "by a process with an older ring); run `homeward keys reencrypt` again."
        )
    typer.echo(f"Every stored value is under key {keyring.current.id}.")


def _print_environment_rotation(keyring: Keyring) -> None:
    key = new_key(keyring.ids)
    decrypting = keyring.with_decrypting_key(key)
    current = Keyring([key, *keyring.keys], source=keyring.source)
    typer.echo(
        f"Keys come from {KEYS_VARIABLE}, which this command cannot change. To rotate "
        "without downtime:\n"
        f"  1. Set this on every Homeward process (API, runner, workers) and restart them;\n"
        f"     the new key {key.id} decrypts but does not encrypt yet:\n"
        f"       {KEYS_VARIABLE}={decrypting.serialize()}\n"
        f"  2. When all run with it, make the new key current and restart them again:\n"
        f"       {KEYS_VARIABLE}={current.serialize()}\n"
        "  3. Run `homeward keys reencrypt` with the value of step 2.\n"
        "Nothing was changed."
    )
