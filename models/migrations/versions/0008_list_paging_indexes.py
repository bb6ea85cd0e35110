"""Indexes for reading the case and task lists a page at a time, in their sort order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # An agency's inbox, by status or not, in its order: due, opened, id.
    op.create_index(
        "ix_task_agency_status_due",
        "task",
        ["agency_id", "status", "due_at", "opened_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_task_agency_due", "task", ["agency_id", "due_at", "opened_at", "id"], unique=False
    )
    # The case list, newest first, id as tie-breaker.
    op.create_index("ix_case_created_at_id", "case", ["created_at", "id"], unique=False)
    # Fresh statistics, so that the planners pick the new indexes on a database that
    # already holds many rows (both SQLite and PostgreSQL take plain ANALYZE).
    if op.get_bind().dialect.name in ("sqlite", "postgresql"):
        op.execute("ANALYZE")


def downgrade() -> None:
    op.drop_index("ix_case_created_at_id", table_name="case")
    op.drop_index("ix_task_agency_due", table_name="task")
    op.drop_index("ix_task_agency_status_due", table_name="task")
