"""``single_write``: a session that reads and then writes everything with one statement runs on PostgreSQL
without BEGIN and COMMIT, that statement committing by itself; a second write is refused before it runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Insert, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.db import single_write, table_of, transaction, writes_once
from helpdesk.customers.models import Customer
from helpdesk.runtime import Runtime

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CUSTOMERS = table_of(Customer)


def _postgresql_only(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite keeps its transactions (BEGIN IMMEDIATE takes the write lock ids are counted under)"
        )


@asynccontextmanager
async def without_transaction(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    async with (
        runtime.engine.connect() as connection,
        single_write(connection),
        transaction(runtime.sessions, on=connection) as session,
    ):
        yield session


def _customer(email: str) -> Insert:
    return insert(CUSTOMERS).values(email=email, name="", created_at=NOW)


async def _customers(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(Customer.email).order_by(Customer.email)))


async def test_the_one_write_of_a_session_without_a_transaction_is_committed_by_itself(
    runtime: Runtime,
) -> None:
    _postgresql_only(runtime)
    async with without_transaction(runtime) as session:
        assert writes_once(session)
        await session.execute(_customer("anna@example.com"))
        # Not rolled back: there was no transaction to roll back.
        await session.rollback()
    assert await _customers(runtime) == ["anna@example.com"]


async def _write_twice(runtime: Runtime) -> None:
    async with without_transaction(runtime) as session:
        await session.execute(_customer("anna@example.com"))
        await session.execute(_customer("boris@example.com"))


async def test_a_second_write_without_a_transaction_is_refused_before_it_runs(runtime: Runtime) -> None:
    _postgresql_only(runtime)
    with pytest.raises(RuntimeError, match="write twice"):
        await _write_twice(runtime)
    assert await _customers(runtime) == ["anna@example.com"]


async def test_reads_around_the_one_write_are_allowed(runtime: Runtime) -> None:
    _postgresql_only(runtime)
    async with without_transaction(runtime) as session:
        await session.scalar(select(func.count()).select_from(CUSTOMERS))
        await session.execute(_customer("anna@example.com"))
        assert await session.scalar(select(func.count()).select_from(CUSTOMERS)) == 1


async def test_the_connection_is_back_in_transactions_after_single_write(runtime: Runtime) -> None:
    _postgresql_only(runtime)
    async with runtime.engine.connect() as connection:
        async with single_write(connection):
            pass
        async with runtime.sessions(bind=connection) as session:
            assert not writes_once(session)
            await session.execute(_customer("anna@example.com"))
            await session.rollback()
    assert await _customers(runtime) == []


async def test_a_session_in_a_transaction_may_write_more_than_once(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        assert not writes_once(session)
