"""The knowledge index holds one database connection at a time while it catches up with edited articles:
with the pool taken, it never waits for a second one (the pool has no overflow by default)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from kbkit import FakeModel, create
from test_kb_embedding_store import REFUND, started

from helpdesk.core.settings import Settings
from helpdesk.runtime import Runtime

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # One pooled connection (PostgreSQL; SQLite pools by its own rules): holding it while asking for a second
    # would wait for itself until the pool's timeout.
    return msgspec.structs.replace(settings, database_pool_size=1, database_max_overflow=0)


async def test_an_edited_article_is_embedded_and_stored_through_a_pool_of_one_connection(
    client: Any, runtime: Runtime, agent: Any
) -> None:
    refund = await create(client, agent.headers, **REFUND)
    model = FakeModel()
    index = await started(runtime, model)
    response = await client.patch(
        f"/api/v1/kb/articles/{refund['id']}",
        json={"body": "Where is my refund. Refunds reach the card."},
        headers=agent.headers,
    )
    assert response.status_code == 200, response.text
    model.embedded.clear()

    await asyncio.wait_for(index.refresh(force=True), timeout=10)

    assert "Refunds reach the card." in model.embedded
    await index.close()
