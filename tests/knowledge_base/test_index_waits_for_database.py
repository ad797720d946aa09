"""The knowledge index of a process started before its database was reachable is built once it is."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from helpdesk.runtime import Runtime
from knowledge_base.live_index import LiveIndex

pytestmark = pytest.mark.integration


async def test_the_index_build_tries_again_until_the_database_answers(runtime: Runtime) -> None:
    refusals = 0

    def sessions() -> Any:
        nonlocal refusals
        if refusals < 1:
            refusals += 1
            raise ConnectionRefusedError(111, "Connect call failed")
        return runtime.sessions()

    index = LiveIndex(sessions)  # type: ignore[arg-type]
    index.start()
    await asyncio.wait_for(index.ready.wait(), timeout=30)
    assert refusals == 1
    assert index.ready.is_set()
    await index.close()


async def test_an_index_build_that_fails_for_another_reason_is_not_retried(runtime: Runtime) -> None:
    def sessions() -> Any:
        raise ValueError("a bug, not an outage")

    index = LiveIndex(sessions)  # type: ignore[arg-type]
    index.start()
    assert index._task is not None
    with pytest.raises(ValueError, match="a bug"):
        await asyncio.wait_for(index._task, timeout=5)
    assert not index.ready.is_set()
