"""Where other domains put their part of a page without editing the page's controller.

The knowledge base adds suggested articles and field service adds work orders to the agent's ticket page
(and the portal's new-request page) by registering a provider: ``register_ticket_panel(name, provider)``.
A provider gets ``(runtime, principal, ticket_id)`` and returns a dict that its partial
(``agent/_<name>.html``, included by ``agent/ticket.html``) reads as ``panels[name]``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from helpdesk.core.principal import Principal

PanelProvider = Callable[[Any, Principal, int], Awaitable[dict[str, Any]]]
_TICKET_PANELS: dict[str, PanelProvider] = {}


def register_ticket_panel(name: str, provider: PanelProvider) -> None:
    _TICKET_PANELS[name] = provider


async def ticket_panels(runtime: Any, principal: Principal, ticket_id: int) -> dict[str, dict[str, Any]]:
    return {name: await provider(runtime, principal, ticket_id) for name, provider in _TICKET_PANELS.items()}
