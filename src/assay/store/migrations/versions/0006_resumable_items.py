"""Resumable, phased items: saved state and waits for suspended items; counts by state.

A suspended item keeps what it saved (``saved_state``), what it waits for, since when and
until when; ``attempt_base`` is the attempt count at its last suspension, so a wait does not
use up the retries that protect against crashes. The (evaluation, state) index lets a status
read count items per state without touching their rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("saved_state", _JSON, nullable=True))
        batch.add_column(sa.Column("waiting_for", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resume_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("attempt_base", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_index("ix_items_evaluation_state", "items", ["evaluation_id", "state"])
    op.create_index("ix_items_state_resume", "items", ["state", "resume_after"])


def downgrade() -> None:
    op.drop_index("ix_items_state_resume", table_name="items")
    op.drop_index("ix_items_evaluation_state", table_name="items")
    with op.batch_alter_table("items") as batch:
        for column in (
            "attempt_base",
            "resume_after",
            "waiting_since",
            "waiting_for",
            "saved_state",
        ):
            batch.drop_column(column)
