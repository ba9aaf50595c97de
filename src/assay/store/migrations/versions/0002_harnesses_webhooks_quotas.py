"""Custom harnesses, the webhook outbox, org webhook secrets, evaluation error codes, quotas.

- ``harnesses``: an organization's custom probe sets, referenced by id like built-in names.
- ``webhook_deliveries``: the outbox of terminal-state events and their delivery attempts.
- ``organizations.webhook_secret_enc``: the HMAC key deliveries are signed with (encrypted).
- ``evaluations.error_code``: why an evaluation failed, as a stable code.
- ``evaluations.id`` (and the columns pointing at it) widen to 64 characters for the native
  API's ``eval-{uuid}`` ids. SQLite does not enforce lengths, so only PostgreSQL alters them.
- ``ix_evaluations_org_status``: the quota on evaluations running at once counts by it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:02:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgresql():
        op.alter_column(
            "evaluations", "id", type_=sa.String(length=64), existing_type=sa.String(length=36)
        )
        op.alter_column(
            "items",
            "evaluation_id",
            type_=sa.String(length=64),
            existing_type=sa.String(length=36),
        )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_secret_enc", sa.Text(), nullable=True))
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_code", sa.String(length=100), nullable=True))
        batch_op.create_index("ix_evaluations_org_status", ["org_id", "status"], unique=False)

    op.create_table(
        "harnesses",
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("probes", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("org_id", "id"),
        sa.UniqueConstraint("org_id", "name"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("evaluation_id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["evaluation_id"], ["evaluations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_webhook_deliveries_evaluation", ["evaluation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_evaluation")
        batch_op.drop_index("ix_webhook_deliveries_due")
    op.drop_table("webhook_deliveries")
    op.drop_table("harnesses")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluations_org_status")
        batch_op.drop_column("error_code")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("webhook_secret_enc")
    if _postgresql():
        op.alter_column(
            "items",
            "evaluation_id",
            type_=sa.String(length=36),
            existing_type=sa.String(length=64),
        )
        op.alter_column(
            "evaluations", "id", type_=sa.String(length=36), existing_type=sa.String(length=64)
        )
