"""A column whose test SQLite may not answer from an index: ``+column``, SQLite's own idiom.

SQLite's planner, without statistics, guesses that an equality on an index's first column
matches about ten rows. A claim moves a batch of items picked by id, ``id IN (15 ids) AND
state = 'queued'``: fifteen ids looked worse than "ten" queued items, so SQLite walked the
state index through every queued item instead of the primary key (2.5 ms a claim with 3,000
queued, growing with the queue). The unary ``+`` keeps the test but takes it away from the
planner, which then reaches the rows by their keys. Other databases get the plain column.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class unindexed(ColumnElement[Any]):  # noqa: N801 - used like a SQL function
    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(unindexed)
def _plain(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(unindexed, "sqlite")
def _unary_plus(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)
