"""While the database is unreachable, requests get a 503 that says to try again, not a 500 that reads as a bug."""

from __future__ import annotations

from typing import Any

import pytest
from testing_support import free_port

pytestmark = pytest.mark.integration


async def test_a_request_while_the_database_is_unreachable_gets_503_with_retry_after(
    make_client: Any,
) -> None:
    # Nothing listens on this port: every connection is refused, as during a PostgreSQL restart.
    away = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test"
    async with make_client(database_url=away) as (client, _):
        response = await client.get("/api/v1/tickets", headers={"Authorization": "Bearer hd_not-a-token"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["code"] == "unavailable"
    assert "try again" in body["detail"]
