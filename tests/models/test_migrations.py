"""The Alembic migrations build exactly the schema the SQLModel tables describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on the metadata)
from core.db import engine_for
from models.migrations import alembic_config, upgrade


def schema_of(url: str) -> dict[str, Any]:
    """Tables with their columns, indexes, unique and foreign keys, comparable with ==."""
    inspector = inspect(engine_for(url))
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        schema[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "indexes": sorted(
                (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"])
                for f in inspector.get_foreign_keys(table)
            ),
        }
    return schema


def current_revision(url: str) -> str | None:
    with engine_for(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_upgrade_creates_every_model_table(database_url: str) -> None:
    tables = set(inspect(engine_for(database_url)).get_table_names())

    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert current_revision(database_url) == head_revision(database_url)


def test_second_upgrade_changes_nothing(database_url: str) -> None:
    before = schema_of(database_url)

    upgrade(database_url)

    assert schema_of(database_url) == before
    assert current_revision(database_url) == head_revision(database_url)


def test_migrated_schema_matches_models(database_url: str) -> None:
    with engine_for(database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)

    assert differences == []
