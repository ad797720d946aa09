"""The tag rule's app: HELPDESK_FIELD_ORDER_TAGS set to ``onsite`` and ``Vor-Ort``, visits of 90 minutes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from helpdesk.runtime import Runtime

RULE = {"field_order_tags": "onsite, Vor-Ort", "field_order_duration_minutes": 90}


@pytest.fixture
async def desk(make_client) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:  # type: ignore[no-untyped-def]
    """An app with the tag rule on: (client, runtime)."""
    async with make_client(**RULE) as started:
        yield started
        await started[1].queue.drain()  # type: ignore[attr-defined]
