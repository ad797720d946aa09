"""Rows of several tables written in one statement: what a batch writes that nobody reads back.

On PostgreSQL each table's rows travel as one array per column and are written by ``INSERT … SELECT FROM
unnest(…)`` (or ``UPDATE … FROM unnest(…)``), all of them data-modifying CTEs of one statement: one round
trip whatever the number of tables and rows, and a statement that depends only on the columns, so it is
compiled and prepared once. Elsewhere (SQLite, in process) one executemany statement per table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class NewRows:
    """Rows to insert (every row with the same keys); ``skip_conflicts_on``: ``ON CONFLICT (…) DO NOTHING``."""

    table: Table
    rows: Sequence[Mapping[str, Any]]
    skip_conflicts_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangedRows:
    """``UPDATE table SET … WHERE key = row[key]`` for every row (every row with the same keys), only where
    the columns of ``only_where`` hold those values; the columns of ``keep_if_null`` keep their value when the
    row's is None."""

    table: Table
    key: str
    rows: Sequence[Mapping[str, Any]]
    only_where: Mapping[str, Any] = field(default_factory=dict)
    keep_if_null: tuple[str, ...] = ()


async def write_rows(session: AsyncSession, changes: Sequence[NewRows | ChangedRows]) -> None:
    """Write every change, in order (parents before children), in the caller's transaction."""
    changes = [c for c in changes if c.rows]
    if not changes:
        return
    if session.get_bind().dialect.name != "postgresql":
        for change in changes:
            await _write_one_by_one(session, change)
        return
    parameters: dict[str, Any] = {}
    for n, change in enumerate(changes):
        for key in change.rows[0]:
            parameters[f"p{n}_{key}"] = [row[key] for row in change.rows]
        if isinstance(change, ChangedRows):
            parameters.update({f"w{n}_{key}": value for key, value in change.only_where.items()})
    await session.execute(_statement(tuple(_shape(change) for change in changes)), parameters)


# What a statement depends on: kind, table, columns, and the conflict, key, condition and kept columns.
_Shape = tuple[str, Table, tuple[str, ...], tuple[str, ...], str, tuple[str, ...], tuple[str, ...]]


def _shape(change: NewRows | ChangedRows) -> _Shape:
    keys = tuple(change.rows[0])
    if isinstance(change, NewRows):
        return ("insert", change.table, keys, change.skip_conflicts_on, "", (), ())
    return ("update", change.table, keys, (), change.key, tuple(change.only_where), change.keep_if_null)


@lru_cache(maxsize=64)
def _statement(shapes: tuple[_Shape, ...]) -> Select[Any]:
    """One statement whose CTEs write every change from arrays bound as ``p<n>_<column>`` (built once per
    shape; SQLAlchemy caches its compiled form and the driver its prepared one)."""
    ctes = []
    for n, (kind, table, keys, conflict, key, where, keep) in enumerate(shapes):
        arrays = [bindparam(f"p{n}_{k}", type_=ARRAY(table.c[k].type)) for k in keys]
        source = func.unnest(*arrays).table_valued(*keys).render_derived(name=f"s{n}")
        statement: Any
        if kind == "insert":
            statement = pg_insert(table).from_select(list(keys), select(*(source.c[k] for k in keys)))
            if conflict:
                statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
        else:
            values = {
                k: func.coalesce(source.c[k], table.c[k]) if k in keep else source.c[k]
                for k in keys
                if k != key
            }
            conditions = [
                table.c[key] == source.c[key],
                *(table.c[w] == bindparam(f"w{n}_{w}") for w in where),
            ]
            statement = update(table).where(*conditions).values(values)
        ctes.append(statement.cte(f"c{n}"))
    return select(literal(1)).add_cte(*ctes)


async def _write_one_by_one(session: AsyncSession, change: NewRows | ChangedRows) -> None:
    table = change.table
    if isinstance(change, NewRows):
        if change.skip_conflicts_on:
            skipping = sqlite_insert(table).on_conflict_do_nothing(
                index_elements=list(change.skip_conflicts_on)
            )
            await session.execute(skipping, list(change.rows))
        else:
            await session.execute(insert(table), list(change.rows))
        return
    values: dict[str, Any] = {
        column: func.coalesce(bindparam(f"b_{column}"), table.c[column])
        if column in change.keep_if_null
        else bindparam(f"b_{column}")
        for column in change.rows[0]
        if column != change.key
    }
    statement = update(table).where(table.c[change.key] == bindparam(f"b_{change.key}"))
    for column, value in change.only_where.items():
        statement = statement.where(table.c[column] == value)
    await session.execute(
        statement.values(values), [{f"b_{key}": value for key, value in row.items()} for row in change.rows]
    )
