"""Scenario simulations (seed 004): connectors, personas, scenarios and evals of a project.

- ``projects.llm_settings`` / ``llm_api_key_enc`` / ``updated_at``: the simulator and judge
  models of a project, and their API key (encrypted).
- ``connectors``: a project's agents under test; credentials encrypted.
- ``personas``, ``scenarios`` (with the ids of their personas), ``project_evals`` (a connector
  and scenario ids). Runs are core evaluations and items, so they need no table of their own.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TABLES = ("connectors", "personas", "scenarios", "project_evals")


def _tenancy_columns() -> list[sa.Column[str]]:
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
    ]


def _tenancy_constraints() -> list[sa.Constraint]:
    return [
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    ]


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("llm_settings", _JSON, nullable=True))
        batch_op.add_column(sa.Column("llm_api_key_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "connectors",
        *_tenancy_columns(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("config", _JSON, nullable=False),
        sa.Column("headers", _JSON, nullable=False),
        sa.Column("credentials_enc", sa.Text(), nullable=True),
        *_timestamps(),
        *_tenancy_constraints(),
    )
    op.create_table(
        "personas",
        *_tenancy_columns(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("traits", _JSON, nullable=True),
        *_timestamps(),
        *_tenancy_constraints(),
    )
    op.create_table(
        "scenarios",
        *_tenancy_columns(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("max_messages", sa.Integer(), nullable=False),
        sa.Column("success_criteria", sa.Text(), nullable=True),
        sa.Column("failure_criteria", sa.Text(), nullable=True),
        sa.Column("persona_ids", _JSON, nullable=False),
        *_timestamps(),
        *_tenancy_constraints(),
    )
    op.create_table(
        "project_evals",
        *_tenancy_columns(),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("scenario_ids", _JSON, nullable=False),
        *_timestamps(),
        *_tenancy_constraints(),
    )
    for table in _TABLES:
        op.create_index(f"ix_{table}_project", table, ["project_id", "created_at"])


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_index(f"ix_{table}_project", table_name=table)
        op.drop_table(table)
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("llm_api_key_enc")
        batch_op.drop_column("llm_settings")
