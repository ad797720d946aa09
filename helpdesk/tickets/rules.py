"""Pure ticket rules: statuses and their transitions, priority from impact × urgency, reopen on reply."""

from __future__ import annotations

import re
from enum import StrEnum


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"
    PENDING_INTERNAL = "pending_internal"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Level(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Channel(StrEnum):
    WEB = "web"
    EMAIL = "email"
    API = "api"
    PHONE = "phone"


class MessageKind(StrEnum):
    CUSTOMER_MESSAGE = "customer_message"
    PUBLIC_REPLY = "public_reply"
    INTERNAL_NOTE = "internal_note"


_S = TicketStatus
ALLOWED_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    _S.NEW: frozenset({_S.OPEN, _S.PENDING_CUSTOMER, _S.PENDING_INTERNAL, _S.RESOLVED, _S.CLOSED}),
    _S.OPEN: frozenset({_S.PENDING_CUSTOMER, _S.PENDING_INTERNAL, _S.RESOLVED, _S.CLOSED}),
    _S.PENDING_CUSTOMER: frozenset({_S.OPEN, _S.PENDING_INTERNAL, _S.RESOLVED, _S.CLOSED}),
    _S.PENDING_INTERNAL: frozenset({_S.OPEN, _S.PENDING_CUSTOMER, _S.RESOLVED, _S.CLOSED}),
    _S.RESOLVED: frozenset({_S.OPEN, _S.CLOSED}),
    # Closed is final: a customer writing again gets a new ticket linked to this one.
    _S.CLOSED: frozenset(),
}

OPEN_STATUSES = frozenset({_S.NEW, _S.OPEN, _S.PENDING_CUSTOMER, _S.PENDING_INTERNAL})


def can_transition(current: TicketStatus, target: TicketStatus) -> bool:
    return target == current or target in ALLOWED_TRANSITIONS[current]


def status_after_customer_message(current: TicketStatus) -> TicketStatus | None:
    """The status a customer's message moves the ticket to; ``None`` means it needs a new, linked ticket."""
    if current == _S.CLOSED:
        return None
    if current in (_S.PENDING_CUSTOMER, _S.RESOLVED):
        return _S.OPEN
    return current


def status_after_agent_reply(current: TicketStatus) -> TicketStatus:
    """A first public answer takes a new ticket into work; other statuses are the agent's choice."""
    return _S.OPEN if current == _S.NEW else current


_MATRIX: dict[tuple[Level, Level], Priority] = {
    (Level.HIGH, Level.HIGH): Priority.P1,
    (Level.HIGH, Level.MEDIUM): Priority.P2,
    (Level.MEDIUM, Level.HIGH): Priority.P2,
    (Level.HIGH, Level.LOW): Priority.P3,
    (Level.MEDIUM, Level.MEDIUM): Priority.P3,
    (Level.LOW, Level.HIGH): Priority.P3,
    (Level.MEDIUM, Level.LOW): Priority.P4,
    (Level.LOW, Level.MEDIUM): Priority.P4,
    (Level.LOW, Level.LOW): Priority.P4,
}


def priority_from_matrix(impact: Level, urgency: Level) -> Priority:
    return _MATRIX[(impact, urgency)]


DEFAULT_PRIORITY = Priority.P3
TICKET_REFERENCE = re.compile(r"\bHD-(\d{1,18})\b", re.IGNORECASE)


def ticket_reference(ticket_id: int) -> str:
    return f"HD-{ticket_id}"


def parse_ticket_reference(text: str) -> int | None:
    """The ticket id named by ``HD-<n>`` in ``text`` (an id or a subject), if any."""
    match = TICKET_REFERENCE.search(text)
    return int(match.group(1)) if match else None


def normalise_tags(tags: list[str]) -> list[str]:
    """Lower-case, trimmed, de-duplicated, in first-seen order."""
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = tag.strip().lower()
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


# The timestamp a status stamps when a ticket enters it.
WORKING_STATUS_TIMESTAMPS: dict[TicketStatus, str] = {
    TicketStatus.RESOLVED: "resolved_at",
    TicketStatus.CLOSED: "closed_at",
}
