"""Schemathesis over the published OpenAPI schema, as an admin: whatever it sends, the answer is never a 5xx."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans

from helpdesk.accounts.service import AccountService
from helpdesk.app import create_app
from helpdesk.core.clock import FixedClock
from helpdesk.core.settings import Settings
from helpdesk.runtime import start_runtime, stop_runtime

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def _admin_token(fuzz_settings: Settings) -> str:
    runtime = await start_runtime(fuzz_settings, in_process_jobs=True)
    try:
        accounts = AccountService(runtime)
        user = await accounts.create_user(
            email=f"fuzz-{secrets.token_hex(3)}@staff.example", name="Fuzz", role="admin", password=None
        )
        _, token = await accounts.create_api_token(user.id, "fuzz")
        return token
    finally:
        await stop_runtime(runtime)


# Settings are read from the environment when the app starts, i.e. on the first request (see ``fuzz_env``).
APP = create_app(clock=FixedClock(datetime(2027, 3, 1, 9, tzinfo=UTC)), in_process_jobs=True, run_crons=False)
schema = schemathesis.openapi.from_dict(APP.openapi_schema.to_schema())
schema.app = APP


@pytest.fixture(scope="module")
def fuzz_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    environment = {
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_ATTACHMENT_DIR": str(tmp_path_factory.mktemp("fuzz-attachments")),
        "HELPDESK_LOGIN_RATE_PER_MINUTE": "100000",
        "HELPDESK_MAGIC_LINK_RATE_PER_MINUTE": "100000",
        "HELPDESK_PUBLIC_TICKET_RATE_PER_MINUTE": "100000",
    }
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        yield Settings.from_env()
    finally:
        shutdown_lifespans()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def admin_headers(fuzz_settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {asyncio.run(_admin_token(fuzz_settings))}"}


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case, admin_headers):  # type: ignore[no-untyped-def]
    case.call_and_validate(headers=admin_headers, checks=[not_a_server_error])
