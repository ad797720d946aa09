"""Shared fixtures: a real database (PostgreSQL or SQLite) per test run, built by Alembic, and an app per test.

``HELPDESK_TEST_DATABASE_URL`` picks the server (``postgresql+asyncpg://…`` or ``sqlite+aiosqlite://…``; default
SQLite in a temporary folder). On PostgreSQL a fresh database is created for the run and dropped afterwards.
``HELPDESK_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``) is used by tests marked for Redis.
With ``HELPDESK_REQUIRE_SERVICES=1`` (CI) an unreachable service fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from aiosmtpd.controller import Controller
from litestar import Litestar
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from testing_support import REQUIRE_SERVICES, free_port

from helpdesk.app import create_app
from helpdesk.core.clock import FixedClock
from helpdesk.core.db import create_engine
from helpdesk.core.migrate import upgrade
from helpdesk.core.queue import InProcessJobQueue
from helpdesk.core.settings import Settings
from helpdesk.models import Base
from helpdesk.runtime import Runtime

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

    async def run(statement: str) -> None:
        # An engine per event loop: pooled asyncpg connections cannot be closed from another loop.
        admin = create_engine(base.render_as_string(hide_password=False))
        try:
            async with admin.connect() as conn:
                await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text(statement))
        finally:
            await admin.dispose()

    try:
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        _unavailable(f"PostgreSQL at {base.host}:{base.port}: {exc}")
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    # pool_of_one: one pooled connection (PostgreSQL; SQLite pools by its own rules), so that code holding a
    # connection while it asks for a second waits for itself until the pool's timeout instead of passing.
    pool: dict[str, Any] = {}
    if request.node.get_closest_marker("pool_of_one"):
        pool = {"database_pool_size": 1, "database_max_overflow": 0}
    return Settings(
        database_url=database_url,
        **pool,
        attachment_dir=str(tmp_path / "attachments"),
        base_url="http://testserver.local",
        max_attachment_bytes=64 * 1024,
        max_ticket_attachment_bytes=160 * 1024,
        login_rate_per_minute=1000,
        magic_link_rate_per_minute=1000,
        public_ticket_rate_per_minute=1000,
    )


async def _clean(database_url: str) -> None:
    # DELETE is much quicker than TRUNCATE on the few rows a test leaves behind.
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
    await engine.dispose()


@pytest.fixture
async def app(settings: Settings, clock: FixedClock) -> AsyncIterator[Litestar]:
    """The application on the test database, jobs in-process, crons off; tables emptied afterwards."""
    application = create_app(settings, clock=clock, in_process_jobs=True, run_crons=False)
    yield application
    await _clean(settings.database_url)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as test_client:
        yield test_client


@contextlib.asynccontextmanager
async def serve(application: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan in the test's event loop and talk to it over ASGI.

    Litestar's test client runs the app in a thread of its own: asyncpg connections made there cannot be used
    from the test, and requests sent with ``asyncio.gather`` would run one after another. The lifespan runs in
    a task of its own because it must end in the task it started in.
    """
    started, stop = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    lifespan = asyncio.create_task(run_lifespan())
    ready = asyncio.create_task(started.wait())
    await asyncio.wait({lifespan, ready}, return_when=asyncio.FIRST_COMPLETED)
    if lifespan.done():
        ready.cancel()
        lifespan.result()  # start-up failed: raise its error
    transport = httpx.ASGITransport(app=application)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as test_client:
            yield test_client
    finally:
        # Let jobs the test started finish: cancelled mid-transaction, one could keep SQLite locked.
        queue = getattr(application.state, "runtime", None) and application.state.runtime.queue
        if isinstance(queue, InProcessJobQueue):
            await queue.drain()
        stop.set()
        await lifespan


@pytest.fixture
def runtime(app: Litestar, client: httpx.AsyncClient) -> Runtime:
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


@pytest.fixture
async def make_client(settings: Settings, clock: FixedClock) -> AsyncIterator[Any]:
    """Start the app with some settings changed: ``async with make_client(redis_url=...) as (client, runtime):``.

    Tables are emptied afterwards, as with ``app``.
    """

    @contextlib.asynccontextmanager
    async def make(
        *, in_process_jobs: bool = True, **changes: Any
    ) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
        application = create_app(
            msgspec.structs.replace(settings, **changes),
            clock=clock,
            in_process_jobs=in_process_jobs,
            run_crons=False,
        )
        async with serve(application) as test_client:
            yield test_client, application.state.runtime

    yield make
    await _clean(settings.database_url)


class SmtpSink:
    """What a real SMTP server on 127.0.0.1 received; set ``reply`` (e.g. ``"451 try later"``) to refuse mail."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.reply: str | None = None
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply is not None:
            return self.reply
        raw = envelope.original_content or envelope.content
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class CustomerSession:
    """A customer signed in through the magic link: ``headers`` carry the cookie and the CSRF token."""

    customer_id: int
    email: str
    cookie: str
    csrf_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"hd_session={self.cookie}", "X-CSRF-Token": self.csrf_token}


async def magic_link_token(runtime: Runtime, address: str) -> str:
    """The token of the newest sign-in link mailed to ``address`` (read from the outbox table)."""
    from helpdesk.notifications.models import OutgoingMail

    async with runtime.sessions() as session:
        body = await session.scalar(
            select(OutgoingMail.body_text)
            .where(OutgoingMail.to_address == address, OutgoingMail.kind == "magic_link")
            .order_by(OutgoingMail.id.desc())
            .limit(1)
        )
    assert body is not None, f"no sign-in link was mailed to {address}"
    match = re.search(r"/portal/magic/(\S+)", body)
    assert match is not None
    return match.group(1)


@pytest.fixture
def mailed_magic_link(runtime: Runtime):  # type: ignore[no-untyped-def]
    """``await mailed_magic_link(address)``: the token of the newest sign-in link in the outbox."""

    async def read(address: str) -> str:
        return await magic_link_token(runtime, address)

    return read


@pytest.fixture
def customer_session(client: httpx.AsyncClient, runtime: Runtime):  # type: ignore[no-untyped-def]
    """Sign a customer in through the magic link (creating the customer if new); the client keeps no cookie."""
    from helpdesk.customers.models import Customer
    from helpdesk.customers.schemas import CustomerCreate
    from helpdesk.customers.service import CustomerService

    async def sign_in(address: str | None = None, *, organisation_id: int | None = None) -> CustomerSession:
        address = address or f"customer-{secrets.token_hex(3)}@example.com"
        async with runtime.sessions() as session:
            customer_id = await session.scalar(select(Customer.id).where(Customer.email == address))
        if customer_id is None:
            created = await CustomerService(runtime).create_customer(
                CustomerCreate(email=address, name=address.split("@")[0], organisation_id=organisation_id)
            )
            customer_id = created.id
        requested = await client.post("/api/v1/auth/magic-link", json={"email": address})
        assert requested.status_code == 202, requested.text
        redeemed = await client.get(
            f"/portal/magic/{await magic_link_token(runtime, address)}", follow_redirects=False
        )
        assert redeemed.status_code in (301, 302, 303, 307), redeemed.text
        cookie = redeemed.cookies["hd_session"]
        client.cookies.clear()
        me = await client.get("/api/v1/auth/me", headers={"Cookie": f"hd_session={cookie}"})
        assert me.status_code == 200, me.text
        return CustomerSession(customer_id, address, cookie, me.json()["csrf_token"])

    return sign_in


@pytest.fixture
def open_ticket(client: httpx.AsyncClient):  # type: ignore[no-untyped-def]
    """Open a ticket through the API as ``who`` (staff or customer headers); returns the ticket JSON."""

    async def open_(headers: dict[str, str], **fields: Any) -> dict[str, Any]:
        body = {"subject": "Printer jams", "description": "Paper jams on page 2", **fields}
        response = await client.post("/api/v1/tickets", json=body, headers=headers)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    return open_


@pytest.fixture(scope="module")
async def module_client(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """One app for a whole module (for tests that share an expensive set-up): (client, runtime)."""
    module_settings = Settings(
        database_url=database_url,
        attachment_dir=str(tmp_path_factory.mktemp("attachments")),
        base_url="http://testserver.local",
        login_rate_per_minute=100_000,
        magic_link_rate_per_minute=100_000,
        public_ticket_rate_per_minute=100_000,
    )
    application = create_app(
        module_settings,
        clock=FixedClock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC)),
        in_process_jobs=True,
        run_crons=False,
    )
    async with serve(application) as test_client:
        yield test_client, application.state.runtime
    await _clean(database_url)
