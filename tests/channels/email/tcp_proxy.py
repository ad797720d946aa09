"""A TCP proxy inside the test process, to make a shared server look restarted without touching it.

PostgreSQL on the test machine serves every test run (and CI), so a fault test must not restart it. Put
this proxy between the application and the server instead: :meth:`TcpProxy.cut` drops every connection
(as a server restart does: open transactions are lost on the server's side, the client sees its
connection reset) and refuses new ones until :meth:`TcpProxy.restore` listens again on the same port.
:meth:`TcpProxy.outage` is a cut and a restore a moment later; :meth:`TcpProxy.cut_after` arms one for
the moment a byte pattern (``b"COMMIT"``) has passed towards the server a number of times, so that it
lands inside the work rather than between two pieces of it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass(eq=False)  # hashed by identity: kept in a set
class _Pipe:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


@dataclass
class _Trigger:
    pattern: bytes
    remaining: int
    outage_seconds: float
    fired: asyncio.Event


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream_host:upstream_port``."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[_Pipe] = set()
        self._trigger: _Trigger | None = None
        self._outages: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def cut(self) -> None:
        """Stop listening (new connections are refused) and reset every open connection."""
        self.cuts += 1
        if self._server is not None:
            self._server.close()
            self._server = None
        for pipe in list(self._pipes):
            self._drop(pipe)

    async def restore(self) -> None:
        """Listen again on the same port."""
        if self._server is None:
            await self.start()

    def outage(self, seconds: float) -> None:
        """A restart: cut now, listen again after ``seconds`` (in a task of the running loop)."""
        self.cut()
        task = asyncio.create_task(self._restore_after(seconds))
        self._outages.add(task)
        task.add_done_callback(self._outages.discard)

    async def _restore_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.restore()

    def cut_after(self, pattern: bytes, occurrences: int, *, outage_seconds: float) -> asyncio.Event:
        """Arm an outage for when ``pattern`` has gone towards the server ``occurrences`` times (counted
        from now). The packet that completes the count is forwarded first, so the server may act on it
        while the client never hears back. Returns an event set when the outage begins."""
        fired = asyncio.Event()
        self._trigger = _Trigger(pattern, occurrences, outage_seconds, fired)
        return fired

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for pipe in list(self._pipes):
            self._drop(pipe)
        for task in list(self._outages):
            task.cancel()
        await asyncio.gather(*self._outages, return_exceptions=True)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.transport.abort()
            return
        pipe = _Pipe(client_writer, server_writer)
        self._pipes.add(pipe)
        pipe.tasks = [
            asyncio.create_task(self._pump(client_reader, server_writer, pipe, towards_server=True)),
            asyncio.create_task(self._pump(server_reader, client_writer, pipe, towards_server=False)),
        ]

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pipe: _Pipe, *, towards_server: bool
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
                if towards_server and self._trigger is not None:
                    self._count(chunk)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._drop(pipe)

    def _count(self, chunk: bytes) -> None:
        trigger = self._trigger
        assert trigger is not None
        trigger.remaining -= chunk.count(trigger.pattern)
        if trigger.remaining <= 0:
            self._trigger = None
            self.outage(trigger.outage_seconds)
            trigger.fired.set()

    def _drop(self, pipe: _Pipe) -> None:
        if pipe not in self._pipes:
            return
        self._pipes.discard(pipe)
        for writer in (pipe.client, pipe.server):
            with contextlib.suppress(Exception):
                writer.transport.abort()
