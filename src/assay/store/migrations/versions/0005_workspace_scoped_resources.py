"""Agents and custom harnesses belong to a workspace, or to the whole organization.

- ``agents.workspace_id`` and ``harnesses.workspace_id``: the workspace the row belongs to;
  NULL means organization-wide (visible to every key of the organization, changed only by
  an organization-wide admin key). Rows that exist before this revision become
  organization-wide, which is what every key could already see of them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("agents", "harnesses")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("workspace_id", sa.String(length=36), nullable=True))
            batch_op.create_foreign_key(
                f"fk_{table}_workspace_id",
                "workspaces",
                ["workspace_id"],
                ["id"],
                ondelete="CASCADE",
            )
            batch_op.create_index(f"ix_{table}_workspace_id", ["workspace_id"], unique=False)


def downgrade() -> None:
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_workspace_id")
            batch_op.drop_constraint(f"fk_{table}_workspace_id", type_="foreignkey")
            batch_op.drop_column("workspace_id")
