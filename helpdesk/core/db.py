"""Declarative base, column types and engine/session factories shared by every domain."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

from sqlalchemy import (
    BigInteger,
    ColumnDefault,
    ColumnElement,
    DateTime,
    Insert,
    Integer,
    MetaData,
    Table,
    bindparam,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy import Sequence as DbSequence
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, make_transient_to_detached, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BIGINT identity on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
IntPK = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_own_transactions(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # The sqlite3 driver only opens a transaction before INSERT/UPDATE/DELETE, so a SAVEPOINT issued before
    # them (``session.begin_nested()``) ran outside any transaction and its RELEASE committed on the spot.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    # A write transaction takes the write lock up front: begun deferred, it would fail with "database is locked"
    # instead of waiting when another writer commits between its first read and its first write.
    immediate = connection.get_execution_options().get("sqlite_begin") == "immediate"
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# A pooled connection idle longer than this is pinged before use (pool_pre_ping would ping every checkout:
# three round trips on asyncpg, BEGIN, a query, ROLLBACK, on every request). One used within the last
# seconds is taken as alive; if the server restarted meanwhile, the first statement fails, SQLAlchemy sees
# the disconnect and replaces the whole pool, so a restart costs at most the requests in flight then.
IDLE_PING_SECONDS = 5.0


def _note_use(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["used_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    if time.monotonic() - record.info.get("used_at", 0.0) < IDLE_PING_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:
        # The pool drops this connection and checks out another (PoolEvents.checkout).
        raise DisconnectionError("idle connection is gone") from exc


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 0) -> AsyncEngine:
    """An engine for ``url``; SQLite gets foreign keys, WAL, a busy timeout and real transactions (BEGIN when
    SQLAlchemy begins, so savepoints and rollbacks cover every statement). ``pool_size`` and
    ``max_overflow`` size the PostgreSQL pool (``Settings.database_pool_size``)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "connect", _sqlite_own_transactions)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
    event.listen(engine.sync_engine, "connect", _note_use)
    event.listen(engine.sync_engine, "checkin", _note_use)
    event.listen(engine.sync_engine, "checkout", _ping_if_idle)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# A connection's execution option while it runs without a transaction (see :func:`single_write`).
_SINGLE_WRITE = "helpdesk_single_write"


class NeedsTransaction(Exception):
    """Raised, before anything is written, by code that must write more than once inside a session that runs
    without a transaction (:func:`writes_once`): the caller starts over in a real transaction."""


def writes_once(session: AsyncSession) -> bool:
    """Whether ``session`` runs without a transaction (:func:`single_write`), each statement committing by
    itself, so that it may write only once; code that would write more raises :class:`NeedsTransaction`."""
    bind = session.sync_session.bind
    return isinstance(bind, Connection) and bool(bind.get_execution_options().get(_SINGLE_WRITE))


@asynccontextmanager
async def single_write(connection: AsyncConnection) -> AsyncIterator[None]:
    """Run the sessions bound to ``connection`` (PostgreSQL) without BEGIN and COMMIT: two round trips fewer
    for work that reads and then writes everything with one statement, which is atomic by itself. A second
    write statement is refused before it runs, so a wrong caller fails loudly (in tests) instead of leaving
    a half-written change behind."""
    writes = 0

    def count_writes(*args: Any) -> None:
        nonlocal writes
        context = args[4]
        if context is not None and (context.isinsert or context.isupdate or context.isdelete):
            writes += 1
            if writes > 1:
                raise RuntimeError("a session running without a transaction tried to write twice")

    sync = connection.sync_connection
    assert sync is not None, "single_write needs a connected connection"
    await connection.execution_options(isolation_level="AUTOCOMMIT", **{_SINGLE_WRITE: True})
    event.listen(sync, "before_cursor_execute", count_writes)
    try:
        yield
    finally:
        event.remove(sync, "before_cursor_execute", count_writes)
        await connection.execution_options(
            isolation_level=sync.default_isolation_level, **{_SINGLE_WRITE: False}
        )


@asynccontextmanager
async def transaction(
    factory: async_sessionmaker[AsyncSession], *, on: AsyncConnection | None = None
) -> AsyncIterator[AsyncSession]:
    """A session whose work commits on success and rolls back on any exception (on SQLite it holds the write
    lock from the start, so concurrent writers wait for each other). ``on``: a connection the caller holds
    and keeps using after the commit (it sets ``sqlite_begin="immediate"`` on it for the same lock)."""
    if on is not None:
        async with factory(bind=on) as session, session.begin():
            yield session
        return
    async with factory() as session, session.begin():
        await session.connection(execution_options={"sqlite_begin": "immediate"})
        yield session


def next_ids(dialect: str, table: Table, count: int = 1) -> list[ColumnElement[int]]:
    """``count`` columns for a SELECT, each the id the next row of ``table`` gets, so that rows referring to
    each other can be written together (see :func:`insert_now`) and the ids ride along with a query that runs
    anyway. PostgreSQL draws from the column's sequence; SQLite counts on from the largest id, which is safe
    because its write transactions take the database lock first (:func:`transaction`)."""
    if dialect == "postgresql":
        sequence = DbSequence(f"{table.name}_id_seq")
        return [sequence.next_value() for _ in range(count)]
    largest = select(func.coalesce(func.max(table.c.id), 0)).scalar_subquery()
    return [largest + n for n in range(1, count + 1)]


# A row given as its table and values, for rows nobody reads back as objects (cheaper than a mapped object).
TableRow = tuple[Table, Mapping[str, Any]]


async def insert_now(
    session: AsyncSession, rows: Sequence[Base | TableRow], *, keep: Sequence[Base] = ()
) -> None:
    """INSERT new rows at once: one statement on PostgreSQL whatever the number of tables (data-modifying
    CTEs, checked against the foreign keys at its end), one INSERT per table elsewhere, parents first. The
    hot paths use it instead of a flush, whose unit of work costs one round trip per table and more
    bookkeeping than the rows.

    A row is a new mapped object (pending in ``session`` or in none) or a :data:`TableRow`. Rows carry the
    primary keys other rows refer to (from :func:`next_ids`); relationships are not followed; scalar column
    defaults are applied here. Afterwards the objects in ``keep`` are persistent in ``session`` (loaded, as if
    read back); the other objects are written and left out of it.
    """
    groups: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
    for item in rows:
        table, values = _values(session, item)
        groups.setdefault((table, tuple(values)), []).append(values)
    order = _table_order(len(Base.metadata.tables))
    ordered = sorted(groups.items(), key=lambda item: order.get(item[0][0].name, len(order)))
    if session.get_bind().dialect.name == "postgresql" and len(rows) > 1:
        shape = tuple((table, keys) for (table, keys), group in ordered for _ in group)
        parameters = {
            f"v{n}_{key}": value
            for n, values in enumerate(values for _, group in ordered for values in group)
            for key, value in values.items()
        }
        # One statement while its parameters stay well under the protocol's limit of 32767.
        if len(parameters) < 30_000:
            await session.execute(_one_statement(shape), parameters)
            ordered = []
    for (table, _), group in ordered:
        await session.execute(insert(table), group)
    for obj in keep:
        state = inspect(obj)
        for key, default, _ in _columns(_table_of(state.mapper.local_table)):
            if key not in state.dict:
                set_committed_value(obj, key, default)
        make_transient_to_detached(obj)
        session.add(obj)


def _values(session: AsyncSession, row: Base | TableRow) -> tuple[Table, dict[str, Any]]:
    """The table and the values to insert for one row (defaults filled in, unset primary keys left out)."""
    if isinstance(row, tuple):
        table, given = row
    else:
        state = inspect(row)
        if not (state.transient or state.pending):
            raise ValueError(f"insert_now takes new objects only, not {row!r}")
        if state.pending:
            session.expunge(row)
        table, given = _table_of(state.mapper.local_table), state.dict
    values: dict[str, Any] = {}
    for key, default, primary in _columns(table):
        value = given.get(key, default)
        if value is None and primary:
            continue  # the database numbers it
        values[key] = value
    return table, values


def table_of(model: type[Base]) -> Table:
    """A model's table, typed as one (``Model.__table__`` is typed as any FROM clause)."""
    return _table_of(model.__table__)


def _table_of(selectable: object) -> Table:
    assert isinstance(selectable, Table)
    return selectable


@lru_cache(maxsize=256)
def _columns(table: Table) -> tuple[tuple[str, Any, bool], ...]:
    """(key, scalar default or None, part of the primary key) of each column. The models' attributes are
    named as their columns (tests/core checks it), so an object's values are read by column key."""
    columns = []
    for column in table.columns:
        default = column.default
        scalar = default.arg if isinstance(default, ColumnDefault) and default.is_scalar else None
        columns.append((column.key, scalar, column.primary_key))
    return tuple(columns)


@lru_cache(maxsize=8)
def _table_order(_table_count: int) -> dict[str, int]:
    """Each table's place in foreign key order (recomputed when more models have been imported)."""
    return {table.name: n for n, table in enumerate(Base.metadata.sorted_tables)}


@lru_cache(maxsize=128)
def _one_statement(shape: tuple[tuple[Table, tuple[str, ...]], ...]) -> Insert:
    """One INSERT per row of ``shape`` (table, columns), as CTEs of one statement with a named parameter per
    value. Single-row INSERTs, because SQLAlchemy caches their compiled form (not a multi-row VALUES'), and
    built once per shape."""
    inserts = [
        insert(table).values({key: bindparam(f"v{n}_{key}", type_=table.c[key].type) for key in keys})
        for n, (table, keys) in enumerate(shape)
    ]
    return inserts[-1].add_cte(*(statement.cte(f"insert_{n}") for n, statement in enumerate(inserts[:-1])))
