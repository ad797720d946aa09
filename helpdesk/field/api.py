"""Mounts ``dispatch``'s controllers with the help desk's ``TicketPort`` as their ``tickets`` dependency."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from dispatch.ports import TicketPort
from helpdesk.field.tickets import HelpdeskTickets
from helpdesk.runtime import RuntimeDep


def provide_tickets(runtime: RuntimeDep) -> TicketPort:
    return HelpdeskTickets(runtime)


TICKETS = {"tickets": Provide(provide_tickets, sync_to_thread=False)}


def dispatch_router() -> Router:
    """``/dispatch/...`` under the API prefix."""
    from dispatch.api import API_HANDLERS

    return Router(path="/dispatch", route_handlers=API_HANDLERS, dependencies=TICKETS)


def ical_router() -> Router:
    """The technicians' calendar feeds, outside the API prefix (calendar apps fetch them without a session)."""
    from dispatch.api import ical_feed

    return Router(path="/", route_handlers=[ical_feed], dependencies=TICKETS)
