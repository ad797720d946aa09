"""Fixed-window request limits per key, in Redis when configured (shared by every replica), else in memory.
Windows come from the injected clock, so tests that fix the clock never straddle a window boundary."""

from __future__ import annotations

from typing import Protocol

from redis.asyncio import Redis

from helpdesk.core.clock import Clock
from helpdesk.core.errors import RateLimited


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> None:
        """Count one request for ``key``; raise ``RateLimited`` once ``limit`` is passed in the window."""


def _window(clock: Clock, window_seconds: int) -> int:
    return int(clock.now().timestamp() // window_seconds)


class MemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._counts: dict[tuple[str, int], int] = {}

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> None:
        window = _window(self._clock, window_seconds)
        if len(self._counts) > 50_000:
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
        count = self._counts.get((key, window), 0) + 1
        self._counts[(key, window)] = count
        _check(count, limit, window_seconds)


class RedisRateLimiter:
    def __init__(self, redis: Redis, clock: Clock) -> None:
        self._redis = redis
        self._clock = clock

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> None:
        window = _window(self._clock, window_seconds)
        redis_key = f"helpdesk:rate:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(redis_key)
            pipe.expire(redis_key, window_seconds * 2)
            count, _ = await pipe.execute()
        _check(int(count), limit, window_seconds)


def _check(count: int, limit: int, window_seconds: int) -> None:
    if count > limit:
        raise RateLimited(f"too many requests: at most {limit} per {window_seconds} seconds, try again later")
