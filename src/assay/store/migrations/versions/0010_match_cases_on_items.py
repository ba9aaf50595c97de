"""A match evaluation's items carry their cases: the engine reads the spec without them.

Items planned before this revision hold only the case's index; each gets its case's input
and expected output from its evaluation's spec, which is left as it was.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_evaluations = sa.table(
    "evaluations", sa.column("id"), sa.column("kind"), sa.column("spec", sa.JSON)
)
_items = sa.table("items", sa.column("id"), sa.column("evaluation_id"), sa.column("input", sa.JSON))


def upgrade() -> None:
    conn = op.get_bind()
    found = conn.execute(sa.select(_evaluations.c.id).where(_evaluations.c.kind == "match"))
    for (evaluation_id,) in found.all():
        spec = conn.execute(
            sa.select(_evaluations.c.spec).where(_evaluations.c.id == evaluation_id)
        ).scalar_one()
        cases = (spec or {}).get("params", {}).get("cases") or []
        rows = conn.execute(
            sa.select(_items.c.id, _items.c.input).where(_items.c.evaluation_id == evaluation_id)
        ).all()
        updates = [
            {
                "item_id": item_id,
                "new_input": {
                    **item_input,
                    "input": cases[item_input["case"]]["input"],
                    "expected_output": cases[item_input["case"]]["expected_output"],
                },
            }
            for item_id, item_input in rows
            if "input" not in item_input and item_input.get("case", len(cases)) < len(cases)
        ]
        if updates:
            conn.execute(
                _items.update()
                .where(_items.c.id == sa.bindparam("item_id"))
                .values(input=sa.bindparam("new_input")),
                updates,
            )


def downgrade() -> None:
    """Nothing to undo: an index-only reader ignores the extra keys."""
