"""Shared fixtures: a real database (PostgreSQL or SQLite) per test run, built by Alembic, and an app per test.

``HELPDESK_TEST_DATABASE_URL`` picks the server (``postgresql+asyncpg://…`` or ``sqlite+aiosqlite://…``; default
SQLite in a temporary folder). On PostgreSQL a fresh database is created for the run and dropped afterwards.
``HELPDESK_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``) is used by tests marked for Redis.
With ``HELPDESK_REQUIRE_SERVICES=1`` (CI) an unreachable service fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from helpdesk.app import create_app
from helpdesk.core.clock import FixedClock
from helpdesk.core.db import create_engine
from helpdesk.core.migrate import upgrade
from helpdesk.core.settings import Settings
from helpdesk.models import Base
from helpdesk.runtime import Runtime

REQUIRE_SERVICES = os.environ.get("HELPDESK_REQUIRE_SERVICES") == "1"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("HELPDESK_TEST_DATABASE_URL", "")
    if not configured or configured.startswith("sqlite"):
        path = tmp_path_factory.mktemp("db") / "helpdesk-test.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url
        return
    base = make_url(configured)
    name = f"helpdesk_test_{secrets.token_hex(4)}"
    admin = create_engine(base.render_as_string(hide_password=False))

    async def run(statement: str) -> None:
        async with admin.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text(statement))

    try:
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        _unavailable(f"PostgreSQL at {base.host}:{base.port}: {exc}")
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(admin.dispose())
        admin = create_engine(base.render_as_string(hide_password=False))
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(admin.dispose())


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    url = os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis at {url}: {exc}")
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        attachment_dir=str(tmp_path / "attachments"),
        base_url="http://testserver.local",
        max_attachment_bytes=64 * 1024,
        max_ticket_attachment_bytes=160 * 1024,
        login_rate_per_minute=1000,
        magic_link_rate_per_minute=1000,
        public_ticket_rate_per_minute=1000,
    )


async def _clean(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        tables = [t.name for t in Base.metadata.sorted_tables]
        if conn.dialect.name == "postgresql":
            await conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                await conn.execute(text(f'DELETE FROM "{table}"'))
    await engine.dispose()


@pytest.fixture
async def app(settings: Settings, clock: FixedClock) -> AsyncIterator[Litestar]:
    """The application on the test database, jobs in-process, crons off; tables emptied afterwards."""
    application = create_app(settings, clock=clock, in_process_jobs=True, run_crons=False)
    yield application
    await _clean(settings.database_url)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
def runtime(app: Litestar, client: AsyncTestClient[Litestar]) -> Runtime:
    """The running app's runtime (available once the client has started the app)."""
    result: Runtime = app.state.runtime
    return result


class Staff:
    """A signed-in staff member for tests: ``headers`` carry an API token."""

    def __init__(self, user_id: int, email: str, token: str) -> None:
        self.id = user_id
        self.email = email
        self.headers = {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_staff(runtime: Runtime):  # type: ignore[no-untyped-def]
    from helpdesk.accounts.service import AccountService

    async def make(role: str = "agent", *, name: str | None = None, password: str | None = None) -> Staff:
        service = AccountService(runtime)
        email = f"{role}-{secrets.token_hex(3)}@staff.example"
        user = await service.create_user(email=email, name=name or role.title(), role=role, password=password)
        _, token = await service.create_api_token(user.id, "test")
        return Staff(user.id, email, token)

    return make


@pytest.fixture
async def agent(make_staff) -> Staff:  # type: ignore[no-untyped-def]
    return await make_staff("agent", name="Alex Agent")


@pytest.fixture
async def admin(make_staff) -> Staff:  # type: ignore[no-untyped-def]
    return await make_staff("admin", name="Ada Admin")
