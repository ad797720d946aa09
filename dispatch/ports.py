"""What field service needs from the help desk, as a protocol ``helpdesk.field`` implements.

``dispatch`` depends on ``helpdesk.core`` and ``sla`` only; the help desk hands an implementation to the
controllers (the ``tickets`` dependency) and to the pages it renders itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from litestar.di import NamedDependency

from helpdesk.core.principal import Principal


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What a work order copies from its ticket when it is created."""

    ticket_id: int
    reference: str
    subject: str
    priority: str
    customer_id: int | None
    organisation_id: int | None
    contact_name: str
    contact_email: str
    contact_phone: str
    resolution_due_at: datetime | None


@dataclass(frozen=True, slots=True)
class StaffFacts:
    user_id: int
    name: str
    role: str
    is_active: bool


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    author: str
    body: str
    created_at: datetime


@runtime_checkable
class TicketPort(Protocol):
    async def ticket_facts(self, principal: Principal, ticket_id: int) -> TicketFacts:
        """The ticket if ``principal`` works tickets and may see it; raises ``NotFound``/``PermissionDenied``."""
        ...

    async def staff_member(self, user_id: int) -> StaffFacts | None: ...

    async def public_history(self, ticket_ids: Iterable[int], *, limit: int) -> dict[int, list[HistoryEntry]]:
        """The newest ``limit`` public messages of each ticket, oldest first."""
        ...


# Controllers ask for the help desk's implementation under the name ``tickets``.
TicketPortDep = NamedDependency[TicketPort]
