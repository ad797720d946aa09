"""Live updates for open pages: Litestar's channels plugin (Redis pub/sub when HELPDESK_REDIS_URL is set, so
an event published by any API replica or worker reaches every replica's browsers; memory otherwise), streamed
to browsers as server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from litestar import get
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.di import NamedDependency
from litestar.response import ServerSentEvent, ServerSentEventMessage

from helpdesk.core.live import PUBLISHER_KEY, TICKETS_CHANNEL
from helpdesk.core.principal import PrincipalDep
from helpdesk.core.settings import Settings
from helpdesk.web.render import require_staff

HEARTBEAT_SECONDS = 15.0


def live_channels(settings: Settings) -> tuple[ChannelsPlugin, Callable[[], Awaitable[None]]]:
    """The channels plugin for ``settings`` and a shutdown hook that closes its Redis client."""
    backend: ChannelsBackend
    client: Any = None
    if settings.redis_url:
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from redis.asyncio import Redis

        client = Redis.from_url(settings.redis_url)
        backend = RedisChannelsPubSubBackend(redis=client)
    else:
        backend = MemoryChannelsBackend()
    plugin = ChannelsPlugin(backend=backend, channels=[TICKETS_CHANNEL], subscriber_max_backlog=1000)

    async def close() -> None:
        if client is not None:
            await client.aclose()

    return plugin, close


def connect_publisher(plugin: ChannelsPlugin, runtime: Any) -> None:
    """Let services publish through the plugin (``helpdesk.core.live.announce``)."""
    runtime.extras[PUBLISHER_KEY] = plugin.publish


async def _events(plugin: ChannelsPlugin) -> AsyncIterator[ServerSentEventMessage]:
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1000)
    async with plugin.start_subscription([TICKETS_CHANNEL]) as subscriber:

        async def pump() -> None:
            async for message in subscriber.iter_events():
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(message)

        task = asyncio.create_task(pump())
        try:
            yield ServerSentEventMessage(comment="connected", retry=3000)
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="keep-alive")
                    continue
                yield ServerSentEventMessage(data=message.decode(), event="ticket")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@get("/live/tickets", include_in_schema=False)
async def ticket_events(
    principal: PrincipalDep, channels: NamedDependency[ChannelsPlugin]
) -> ServerSentEvent:
    """New tickets, changes and escalations, as they happen (staff only)."""
    require_staff(principal)
    return ServerSentEvent(
        _events(channels), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
