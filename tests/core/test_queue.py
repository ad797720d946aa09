"""The in-process job queue behaves like arq: retries on Retry, one job per job_id, drain waits for everything."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from helpdesk.core.queue import InProcessJobQueue, Retry


async def test_a_job_that_raises_retry_runs_again_until_it_succeeds() -> None:
    tries: list[int] = []

    async def flaky(ctx: dict[str, Any]) -> None:
        tries.append(ctx["job_try"])
        if len(tries) < 3:
            raise Retry(defer=0.01)

    queue = InProcessJobQueue({"flaky": flaky}, {})
    await queue.enqueue("flaky")
    await queue.drain()
    assert tries == [1, 2, 3]


async def test_a_job_that_keeps_asking_for_retry_gives_up_after_max_tries() -> None:
    tries: list[int] = []

    async def hopeless(ctx: dict[str, Any]) -> None:
        tries.append(ctx["job_try"])
        raise Retry(defer=0.001)

    queue = InProcessJobQueue({"hopeless": hopeless}, {}, max_tries=3)
    await queue.enqueue("hopeless")
    await queue.drain()
    assert tries == [1, 2, 3]


async def test_a_job_that_fails_with_another_error_is_not_retried() -> None:
    tries: list[int] = []

    async def broken(ctx: dict[str, Any]) -> None:
        tries.append(ctx["job_try"])
        raise ValueError("bug")

    queue = InProcessJobQueue({"broken": broken}, {})
    await queue.enqueue("broken")
    await queue.drain()
    assert tries == [1]


async def test_a_duplicate_job_id_is_ignored_while_the_first_job_is_active() -> None:
    release = asyncio.Event()
    runs: list[str] = []

    async def slow(ctx: dict[str, Any], label: str) -> None:
        runs.append(label)
        await release.wait()

    queue = InProcessJobQueue({"slow": slow}, {})
    await queue.enqueue("slow", "first", job_id="same")
    await asyncio.sleep(0)
    await queue.enqueue("slow", "second", job_id="same")
    release.set()
    await queue.drain()
    assert runs == ["first"]


async def test_the_same_job_id_runs_again_once_the_first_job_has_finished() -> None:
    runs: list[str] = []

    async def quick(ctx: dict[str, Any], label: str) -> None:
        runs.append(label)

    queue = InProcessJobQueue({"quick": quick}, {})
    await queue.enqueue("quick", "first", job_id="same")
    await queue.drain()
    await queue.enqueue("quick", "second", job_id="same")
    await queue.drain()
    assert runs == ["first", "second"]


async def test_drain_waits_for_jobs_that_jobs_queue() -> None:
    done: list[int] = []

    async def chain(ctx: dict[str, Any], depth: int) -> None:
        await asyncio.sleep(0.01)
        done.append(depth)
        if depth < 3:
            await ctx["queue"].enqueue("chain", depth + 1)

    ctx: dict[str, Any] = {}
    queue = InProcessJobQueue({"chain": chain}, ctx)
    ctx["queue"] = queue  # as jobs reach the queue through ctx["runtime"]
    await queue.enqueue("chain", 1)
    await queue.drain()
    assert done == [1, 2, 3]


async def test_an_unknown_job_name_is_refused_when_queued() -> None:
    queue = InProcessJobQueue({}, {})
    with pytest.raises(LookupError, match="nope"):
        await queue.enqueue("nope")
