"""Live events for open browser pages (the agents' queue, the managers' breach list).

A small JSON message per ticket change, published after commit on one channel. The web app publishes through
Litestar's channels plugin (Redis pub/sub when ``HELPDESK_REDIS_URL`` is set, so every API replica's
subscribers hear it; in memory otherwise); a worker process without the plugin publishes on Redis directly,
on the same channel name the plugin's pub/sub backend uses. Losing an event is harmless: pages also refresh
when they are loaded, so publishing never fails the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

log = logging.getLogger(__name__)

TICKETS_CHANNEL = "helpdesk.tickets"
# runtime.extras key under which the web app puts its publisher: ``publish(data: bytes, channel: str)``.
PUBLISHER_KEY = "live_publisher"


class TicketEvent(msgspec.Struct, kw_only=True):
    kind: str  # "created", "updated", "escalated"
    ticket_id: int
    level: str | None = None


async def announce(runtime: Any, kind: str, ticket_ids: Iterable[int], *, level: str | None = None) -> None:
    """Tell live pages that ``ticket_ids`` changed. Call after commit; never raises."""
    try:
        publisher: Callable[[bytes, str], None] | None = runtime.extras.get(PUBLISHER_KEY)
        redis = getattr(runtime, "redis", None)
        events = [
            msgspec.json.encode(TicketEvent(kind=kind, ticket_id=ticket_id, level=level))
            for ticket_id in dict.fromkeys(ticket_ids)
        ]
        if publisher is not None:
            for data in events:
                publisher(data, TICKETS_CHANNEL)
        elif redis is not None and events:
            # One round trip for a batch's events (a mail batch announces a hundred tickets at once).
            async with redis.pipeline(transaction=False) as pipe:
                for data in events:
                    pipe.publish(TICKETS_CHANNEL, data)
                await pipe.execute()
    except Exception:
        log.exception("could not publish a live %s event", kind)
