"""Re-encrypt every stored secret under a box's current key (``assay secrets rotate-key``).

Encrypted columns are found by convention, not by a list to keep up to date: every column of
``tables.py`` whose name ends in ``_enc`` holds a Fernet token (or NULL).

Rows are read in primary-key order, a page at a time, and each page's stale rows are
rewritten in one short transaction with a compare-and-set (``WHERE col = <old token>``), so
a row that the server changed meanwhile is left as the server wrote it (under the current
key, since the server's box encrypts with it too). A row whose token the current key already
opens is skipped: a second run after a crash only finishes the rows the first did not reach.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine

from assay.core.errors import ConfigurationError
from assay.store.secrets import SecretBox
from assay.store.tables import Base

#: Rows read, and at most rewritten, per transaction.
PAGE_ROWS = 200


@dataclass
class RotationReport:
    """How many secrets each column holds and how many this run re-encrypted."""

    stored: dict[str, int] = field(default_factory=dict)
    resealed: dict[str, int] = field(default_factory=dict)

    @property
    def total_stored(self) -> int:
        return sum(self.stored.values())

    @property
    def total_resealed(self) -> int:
        return sum(self.resealed.values())


def encrypted_columns() -> list[tuple[Table, Column[Any]]]:
    """Every ``*_enc`` column of the schema, with its table, in a stable order."""
    return [
        (table, column)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("_enc")
    ]


async def reseal_all(db: AsyncEngine, box: SecretBox, page_rows: int = PAGE_ROWS) -> RotationReport:
    """Bring every stored token under ``box``'s current key.

    Raises:
        ConfigurationError: a token that no key of ``box`` opens, named by table, column and
            row; the pages before its page are done, the rest untouched, and a run with the missing
            key in ``ASSAY_SECRET_KEY_PREVIOUS`` finishes the job.
    """
    report = RotationReport()
    for table, column in encrypted_columns():
        name = f"{table.name}.{column.name}"
        report.stored[name], report.resealed[name] = await _reseal_column(
            db, box, table, column, page_rows
        )
    return report


async def _reseal_column(
    db: AsyncEngine, box: SecretBox, table: Table, column: Column[Any], page_rows: int
) -> tuple[int, int]:
    keys = list(table.primary_key.columns)
    stored = resealed = 0
    after: tuple[Any, ...] | None = None
    while True:
        query = select(*keys, column).where(column.is_not(None)).order_by(*keys).limit(page_rows)
        if after is not None:
            query = query.where(tuple_(*keys) > tuple_(*after))
        async with db.connect() as conn:
            rows = (await conn.execute(query)).all()
        if not rows:
            return stored, resealed
        stale = [(row, _reseal(box, table, column, row)) for row in rows if _is_stale(box, row)]
        if stale:
            async with db.begin() as conn:
                for row, token in stale:
                    match = [key == value for key, value in zip(keys, row, strict=False)]
                    result = await conn.execute(
                        update(table).where(*match, column == row[-1]).values({column.name: token})
                    )
                    resealed += result.rowcount
        stored += sum(1 for row in rows if row[-1])
        after = tuple(rows[-1][: len(keys)])


def _is_stale(box: SecretBox, row: Any) -> bool:
    token: str = row[-1]
    return bool(token) and not box.is_current(token)


def _reseal(box: SecretBox, table: Table, column: Column[Any], row: Any) -> str:
    try:
        return box.reseal(row[-1])
    except ConfigurationError:
        where = ", ".join(
            f"{key.name}={value!r}" for key, value in zip(table.primary_key, row, strict=False)
        )
        raise ConfigurationError(
            f"{table.name}.{column.name} ({where}) cannot be decrypted with the current key or "
            "any previous key; add the key it was sealed with to ASSAY_SECRET_KEY_PREVIOUS and "
            "run `assay secrets rotate-key` again"
        ) from None
