"""encrypt personal fields

Survivor names, task payloads (reasons, notes) and agencies' Apprise URLs become text
columns holding `v1:<key id>:…` values (core.crypto); the rows already there are encrypted
in place with the current key, so an upgraded database holds none of them in the clear.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 09:12:40.518222
"""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from core import crypto

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As they were before this revision; the context bound into each value is "table.column".
COLUMNS: list[tuple[str, str, sa.types.TypeEngine, bool, bool]] = [
    # table, column, type before, nullable, holds JSON
    ("survivor", "given_name", sqlmodel.sql.sqltypes.AutoString(length=200), False, False),
    ("survivor", "family_name", sqlmodel.sql.sqltypes.AutoString(length=200), False, False),
    ("agency", "notify_urls", sa.JSON(), False, True),
    ("task", "payload", sa.JSON(), True, True),
]
BATCH = 500


def upgrade() -> None:
    bind = op.get_bind()
    for table in dict.fromkeys(table for table, *_ in COLUMNS):
        with _rows_set_aside(bind, table), op.batch_alter_table(table) as batch_op:
            for _, column, before, nullable, _ in (c for c in COLUMNS if c[0] == table):
                batch_op.alter_column(
                    column,
                    existing_type=before,
                    type_=sa.Text(),
                    existing_nullable=nullable,
                    postgresql_using=f"{column}::text",
                )
    for table, column, _, nullable, holds_json in COLUMNS:
        _encrypt_rows(bind, table, column, nullable=nullable, holds_json=holds_json)


def _keyring_for_existing_rows(bind: sa.Connection) -> crypto.Keyring:
    keyring = crypto.current_keyring()
    if keyring.generated and bind.dialect.name != "sqlite":
        # E.g. a one-off migration container: its key file would vanish with it, and the
        # rows encrypted here could never be read again.
        raise RuntimeError(
            f"refusing to encrypt the existing rows with a key generated just now into "
            f"{keyring.path}: other machines sharing this database would not have it. Set "
            f"{crypto.KEYS_VARIABLE} (`homeward keys generate` prints a value) for this "
            "command and for every Homeward process, then upgrade again. Nothing was changed."
        )
    return keyring


@contextmanager
def _rows_set_aside(bind: sa.Connection, table: str) -> Iterator[None]:
    """On SQLite, move the table's rows out while batch mode rebuilds it.

    Batch mode drops the old table, and SQLite checks the foreign keys of every row a drop
    removes; PRAGMA foreign_keys cannot be switched off inside the migration's transaction.
    With the checks deferred to commit, the rows are deleted here and inserted again into
    the rebuilt table: each reinserted parent row satisfies the rows that refer to it.
    """
    if bind.dialect.name != "sqlite":
        yield
        return
    quoted = bind.dialect.identifier_preparer.quote
    name, holding = quoted(table), quoted(f"_0004_{table}")
    bind.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    bind.exec_driver_sql(f"CREATE TEMP TABLE {holding} AS SELECT * FROM {name}")  # noqa: S608
    bind.exec_driver_sql(f"DELETE FROM {name}")  # noqa: S608
    yield
    columns = ", ".join(quoted(c["name"]) for c in sa.inspect(bind).get_columns(table))
    bind.exec_driver_sql(
        f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {holding}"  # noqa: S608
    )
    bind.exec_driver_sql(f"DROP TABLE {holding}")


def downgrade() -> None:
    raise NotImplementedError(
        "revision 0004 encrypted survivor names, task payloads and Apprise URLs in place; "
        "going back would write them out in the clear. Restore the backup taken before "
        "the upgrade instead."
    )


def _encrypt_rows(
    bind: sa.Connection, table_name: str, column: str, *, nullable: bool, holds_json: bool
) -> None:
    table = sa.table(table_name, sa.column("id", sa.Uuid()), sa.column(column, sa.Text()))
    row_id, value = table.c.id, table.c[column]
    context = f"{table_name}.{column}"
    write = (
        sa.update(table)
        .where(row_id == sa.bindparam("row_id", type_=sa.Uuid()))
        .values({column: sa.bindparam("sealed", type_=sa.Text())})
    )
    keyring = None
    last = None
    while True:
        query = sa.select(row_id, value).where(value.is_not(None)).order_by(row_id).limit(BATCH)
        if last is not None:
            query = query.where(row_id > last)
        rows = bind.execute(query).all()
        if not rows:
            return
        updates = []
        for identifier, plaintext in rows:
            if holds_json:
                document = json.loads(plaintext)
                if document is None and nullable:
                    # JSON null written by the old column type: the new one stores SQL NULL.
                    updates.append({"row_id": identifier, "sealed": None})
                    continue
                plaintext = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
            keyring = keyring or _keyring_for_existing_rows(bind)
            sealed = keyring.encrypt(plaintext, context=context)
            updates.append({"row_id": identifier, "sealed": sealed})
        bind.execute(write, updates)
        if len(rows) < BATCH:
            return
        last = rows[-1][0]
