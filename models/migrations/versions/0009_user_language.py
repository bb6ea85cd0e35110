"""Each user's language for the pages, and whether numbers show in the script's digits.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: on SQLite a batch copies and drops the user table,
    # which every audit entry and case refers to (the drop fails with foreign keys on).
    op.add_column("user", sa.Column("language", sa.String(length=8), nullable=True))
    op.add_column(
        "user",
        sa.Column("native_digits", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("user") as table:
        table.drop_column("native_digits")
        table.drop_column("language")
