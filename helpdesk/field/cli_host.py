"""The help desk's runtime for ``helpdesk dispatch ...`` (``dispatch.cli.CommandHost``): started from the
``HELPDESK_*`` settings for one command and stopped after it, once the jobs it queued in this process (the
ticket notes, the appointment mail) have run; with Redis they go to the workers instead.

``helpdesk.cli`` imports this module for every command, so the runtime's imports wait until a dispatch
command runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dispatch.ports import TicketPort
    from helpdesk.core.principal import Principal
    from helpdesk.runtime import Runtime

# Seconds a command waits for the jobs it queued in-process before it stops (a relay cron catches the rest).
DRAIN_SECONDS = 300


class HelpdeskCommandHost:
    def __init__(self, runtime: Runtime) -> None:
        from helpdesk.field.tickets import HelpdeskTickets

        self.context = runtime
        self.tickets: TicketPort = HelpdeskTickets(runtime)

    async def staff_principal(self, email: str) -> Principal | None:
        from sqlalchemy import func, select

        from helpdesk.accounts.models import User
        from helpdesk.core.principal import Principal, Role

        async with self.context.sessions() as session:
            user = await session.scalar(
                select(User).where(func.lower(User.email) == email.strip().lower(), User.is_active.is_(True))
            )
        if user is None:
            return None
        return Principal(
            user_id=user.id,
            role=Role(user.role),
            name=user.name,
            language=user.language,
            time_zone=user.time_zone,
        )


@asynccontextmanager
async def open_command_host() -> AsyncIterator[HelpdeskCommandHost]:
    from helpdesk.core.queue import InProcessJobQueue
    from helpdesk.core.settings import Settings
    from helpdesk.runtime import start_runtime, stop_runtime

    runtime = await start_runtime(Settings.from_env())
    try:
        yield HelpdeskCommandHost(runtime)
        if isinstance(runtime.queue, InProcessJobQueue):
            await runtime.queue.drain(seconds=DRAIN_SECONDS)
    finally:
        await stop_runtime(runtime)
