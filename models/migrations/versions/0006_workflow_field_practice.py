"""Field practice: legal holds, minors' escort flags, placements, closure review, task
context and escalation marks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 06:33:42.921217
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

import models.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column(
            "court_case_reference",
            models.types.EncryptedText("legal_hold.court_case_reference"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("placed_by_user_id", sa.Uuid(), nullable=False),
        sa.Column("placed_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("release_basis", sa.String(length=40), nullable=True),
        sa.Column(
            "permission_reference",
            models.types.EncryptedText("legal_hold.permission_reference"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["placed_by_user_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["released_by_user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_hold_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("escorts_children", sa.Boolean(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("female_escorts", sa.Boolean(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("accepts_children", sa.Boolean(), nullable=False, server_default="0")
        )

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("placed_at", models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("closed_reason", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.add_column(sa.Column("duplicate_of_case_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("extra_follow_ups", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("closure_review", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("reopen_note", models.types.EncryptedText("case.reopen_note"), nullable=True)
        )

    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("overdue_at", models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("escalated_at", models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("context", models.types.EncryptedJSON("task.context"), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("context")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("overdue_at")

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("closure_review")
        batch_op.drop_column("extra_follow_ups")
        batch_op.drop_column("reopen_note")
        batch_op.drop_column("duplicate_of_case_id")
        batch_op.drop_column("closed_reason")
        batch_op.drop_column("placed_at")

    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_column("accepts_children")
        batch_op.drop_column("female_escorts")
        batch_op.drop_column("escorts_children")

    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_hold_case_id"))

    op.drop_table("legal_hold")
