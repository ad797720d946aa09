"""How urgent a ticket is now, per SLA target: the deadline, when it turns amber (the first warning level),
and its state. The queue, the ticket page and the managers' live list show these; a small script only ticks
the countdown between page loads.

``clock_state`` is pure; ``sla_clocks`` loads what it needs for a whole page in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.errors import InvalidInput
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.sla_sync import _timelines
from sla.rules import BREACH, TargetState, evaluate_sla
from sla.service import compile_policy, load_snapshots

OK, WARNING, BREACHED, PAUSED, MET = "ok", "warning", "breached", "paused", "met"


class TargetClock(msgspec.Struct, kw_only=True, frozen=True):
    target: str
    state: str  # ok, warning, breached, paused, met
    due_at: datetime | None
    warn_at: datetime | None
    met_at: datetime | None = None


def clock_state(
    *, due_at: datetime | None, warn_at: datetime | None, now: datetime, paused: bool = False
) -> str:
    """``breached`` from the deadline on, ``warning`` from the first warning level, else ``ok``."""
    if paused:
        return PAUSED
    if due_at is not None and now >= due_at:
        return BREACHED
    if warn_at is not None and now >= warn_at:
        return WARNING
    return OK


def headline(clocks: Sequence[TargetClock]) -> TargetClock | None:
    """The clock the queue shows: the unmet one with the earliest deadline (breached ones first)."""
    live = [c for c in clocks if c.state in (OK, WARNING, BREACHED) and c.due_at is not None]
    if live:
        return min(live, key=lambda c: c.due_at)  # type: ignore[arg-type, return-value]
    paused = [c for c in clocks if c.state == PAUSED]
    return paused[0] if paused else None


async def sla_clocks(
    session: AsyncSession, tickets: Sequence[Ticket], now: datetime
) -> dict[int, list[TargetClock]]:
    """Every SLA target's clock of ``tickets`` at ``now`` (three queries whatever the number of tickets)."""
    snapshots = await load_snapshots(session, [t.id for t in tickets])
    covered = [t for t in tickets if t.id in snapshots]
    timelines = await _timelines(session, covered)
    result: dict[int, list[TargetClock]] = {}
    for ticket in covered:
        compiled = compile_policy(snapshots[ticket.id])
        try:
            status = evaluate_sla(compiled.policy, compiled.calendar, timelines[ticket.id], now)
        except InvalidInput:  # a policy without targets for this priority: the ticket shows no clock
            continue
        first_warning: dict[str, datetime] = {}
        for step in status.escalations:
            if step.level != BREACH and step.target.value not in first_warning:
                first_warning[step.target.value] = step.at
        clocks = []
        for target in status.targets:
            if target.met_at is not None:
                state = BREACHED if target.state == TargetState.BREACHED else MET
                warn_at = None
            else:
                warn_at = first_warning.get(target.target.value)
                state = clock_state(
                    due_at=target.due_at,
                    warn_at=warn_at,
                    now=now,
                    paused=target.state == TargetState.PAUSED,
                )
            clocks.append(
                TargetClock(
                    target=target.target.value,
                    state=state,
                    due_at=target.due_at,
                    warn_at=warn_at,
                    met_at=target.met_at,
                )
            )
        result[ticket.id] = clocks
    return result
