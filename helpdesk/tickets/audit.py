"""Writing the audit trail: one row per changed field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.accounts.principal import Principal
from helpdesk.tickets.models import AuditEvent


def record(
    session: AsyncSession,
    now: datetime,
    actor: Principal,
    *,
    ticket_id: int,
    field: str,
    old: object,
    new: object,
    entity: str = "ticket",
    entity_id: int | None = None,
) -> AuditEvent:
    event = AuditEvent(
        **row(
            now, actor, ticket_id=ticket_id, field=field, old=old, new=new, entity=entity, entity_id=entity_id
        )
    )
    session.add(event)
    return event


def row(
    now: datetime,
    actor: Principal,
    *,
    ticket_id: int,
    field: str,
    old: object,
    new: object,
    entity: str = "ticket",
    entity_id: int | None = None,
) -> dict[str, Any]:
    """The values of one audit row (for ``insert_now``; :func:`record` adds it to a session instead)."""
    return {
        "entity": entity,
        "entity_id": entity_id if entity_id is not None else ticket_id,
        "ticket_id": ticket_id,
        "actor": actor.label[:200],
        "actor_user_id": actor.user_id,
        "actor_customer_id": actor.customer_id,
        "field": field,
        "old_value": _text(old),
        "new_value": _text(new),
        "created_at": now,
    }


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def record_entity(
    session: AsyncSession,
    now: datetime,
    actor: Principal,
    *,
    entity: str,
    entity_id: int,
    field: str,
    old: object,
    new: object,
    ticket_id: int | None = None,
) -> None:
    """One change to something that belongs to no ticket (yet), such as an inbound mail an agent set
    aside, kept in the same trail as ticket changes."""
    session.add(
        AuditEvent(
            entity=entity,
            entity_id=entity_id,
            ticket_id=ticket_id,
            actor=actor.label[:200],
            actor_user_id=actor.user_id,
            actor_customer_id=actor.customer_id,
            field=field,
            old_value=_text(old),
            new_value=_text(new),
            created_at=now,
        )
    )
