"""Plain helpers the tests import by name (conftest modules are not importable reliably: there are several)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from helpdesk.core.db import create_engine
from helpdesk.core.queue import QueuedJob

REQUIRE_SERVICES = os.environ.get("HELPDESK_REQUIRE_SERVICES") == "1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def on_database(database_url: str, work: Any) -> Any:
    """What ``await work(connection)`` returns, run in one transaction on an engine of its own, disposed after:
    for a database other than the app's, or from a fresh event loop (``asyncio.run``)."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            return await work(connection)
    finally:
        await engine.dispose()


@contextlib.contextmanager
def scratch_database(database_url: str, directory: Path, prefix: str) -> Iterator[str]:
    """The URL of an empty database of its own on the test run's server (named ``prefix`` and a random suffix,
    dropped afterwards; on SQLite a file in ``directory``): for tests that move the schema back and forth, which
    the other tests' database must keep at the newest revision. Synchronous, as alembic's env.py runs an event
    loop of its own."""
    url = make_url(database_url)
    if url.get_dialect().name == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'scratch.db'}"
        return
    server = url.render_as_string(hide_password=False)
    name = f"{prefix}_{secrets.token_hex(4)}"

    async def run(statement: str) -> None:
        engine = create_engine(server)
        try:
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class RecordingQueue:
    """Keeps the jobs instead of running them (a test counts a request's own statements, or looks at what was
    queued)."""

    def __init__(self) -> None:
        self.jobs: list[QueuedJob] = []

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> None:
        self.jobs.append(QueuedJob(job, args, job_id, defer_seconds))

    async def enqueue_many(self, jobs: Sequence[QueuedJob]) -> None:
        self.jobs.extend(jobs)

    async def close(self) -> None:
        pass
