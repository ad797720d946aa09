"""Live events from a worker (no web app publisher): every changed ticket is announced on Redis, once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import msgspec
from redis.asyncio import Redis

from helpdesk.core.live import TICKETS_CHANNEL, TicketEvent, announce


@dataclass
class WorkerRuntime:
    redis: Redis
    extras: dict[str, Any] = field(default_factory=dict)


async def test_a_worker_announces_each_ticket_of_a_batch_once_on_redis(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub()
    await pubsub.subscribe(TICKETS_CHANNEL)
    try:
        await announce(WorkerRuntime(redis), "created", [3, 1, 3, 2])
        received = []
        async with asyncio.timeout(5):
            while len(received) < 3:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is not None:
                    received.append(msgspec.json.decode(message["data"], type=TicketEvent))
        assert [(e.kind, e.ticket_id) for e in received] == [("created", 3), ("created", 1), ("created", 2)]
    finally:
        await pubsub.aclose()
        await redis.aclose()
