"""Pooled PostgreSQL connections are not pinged on every checkout (three round trips with asyncpg), only
after being idle a while: one the server dropped meanwhile is replaced before anybody uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from helpdesk.core import db


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to drop a connection")
    engine = db.create_engine(database_url)
    other = db.create_engine(database_url)
    try:
        async with engine.connect() as connection:
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with other.connect() as killer:
            await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # as if it had been idle long enough
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await engine.dispose()
        await other.dispose()


async def test_a_connection_used_a_moment_ago_is_not_pinged_and_an_idle_one_is(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite connections are never pinged")
    engine = db.create_engine(database_url)
    pings: list[bool] = []
    try:
        async with engine.connect() as connection:
            adapted = (await connection.get_raw_connection()).dbapi_connection
            assert adapted is not None
            kind = type(adapted)
            ping = kind.ping

            def counted_ping(self: object) -> None:
                pings.append(True)
                ping(self)

            monkeypatch.setattr(kind, "ping", counted_ping)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        assert pings == []
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        assert pings == [True]
    finally:
        await engine.dispose()
