"""SLA rules: a ticket's deadlines, target states, clock pauses and escalation schedule at a given ``now``.

``evaluate_sla`` is the entry point; the ticket service stores its ``*_due_at`` fields and
``next_escalation_at`` in the ticket's columns, the sweep fires ``escalations`` as they come due. Pure: the
policy, the calendar, the ticket's timeline and ``now`` all come in as arguments.

The rules, in one place:

- Every clock stops while the ticket is in a pausing status (``pending_customer`` by default) or a stopping
  status (``resolved``/``closed``); these stretches are returned as ``SlaStatus.pauses``.
- First response runs from creation to the first agent public reply.
- Next response is armed by the first customer message after an agent reply (from the first reply on) and
  met by the next agent public reply; messages answered by one reply form one cycle; the latest is reported.
- Resolution runs from creation until the ticket enters a stopping status; reopening resumes the same clock
  (time spent resolved does not count).
- While the ticket stays in stopping statuses its clocks are stopped (``SlaStatus.stopped_at``: since when);
  a clock stopped breached stays breached in reports. Reopening sets every clock running again.
- Periodic update runs from the latest agent public reply and is never met, only re-armed by the next reply.
- A target met exactly at its deadline is met; an unmet one is breached from its deadline on.
- Events after ``now`` are ignored; status changes before creation count from creation.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime

import msgspec

from sla.business_time import as_utc
from sla.calendar import BusinessCalendar
from sla.escalation import BREACH, EscalationStep, next_escalation_at, schedule_escalations, warning_level
from sla.targets import (
    PauseInterval,
    SlaPolicy,
    SlaTarget,
    SlaTargets,
    StatusChange,
    TargetState,
    TargetStatus,
    TicketTimeline,
    WarningThreshold,
    clock_pauses,
    derive_pauses,
    evaluate_targets,
    stopped_since,
)

__all__ = [
    "BREACH",
    "EscalationStep",
    "PauseInterval",
    "SlaPolicy",
    "SlaStatus",
    "SlaTarget",
    "SlaTargets",
    "StatusChange",
    "TargetState",
    "TargetStatus",
    "TicketTimeline",
    "WarningThreshold",
    "evaluate_sla",
    "warning_level",
]


class SlaStatus(msgspec.Struct, frozen=True, kw_only=True):
    """Deadlines still to be met (None when met, paused or not armed) and what escalates when.

    ``sla_due_at`` is the earliest deadline among the running targets; breached ones are left out so that a
    breached ticket does not stay at the head of the deadline sweep, which follows ``next_escalation_at``.
    ``stopped_at`` is when the ticket entered the stopping statuses it is still in (None while its clocks
    run), stored on each clock: the live list reads only breaches of clocks that still run.
    """

    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    periodic_update_due_at: datetime | None
    sla_due_at: datetime | None
    targets: tuple[TargetStatus, ...]
    pauses: tuple[PauseInterval, ...]
    escalations: tuple[EscalationStep, ...]
    next_escalation_at: datetime | None
    stopped_at: datetime | None

    def target(self, target: SlaTarget) -> TargetStatus | None:
        return next((status for status in self.targets if status.target == target), None)


def evaluate_sla(
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    timeline: TicketTimeline,
    now: datetime,
    *,
    fired: Set[tuple[str, str]] = frozenset(),
    notification_calendar: BusinessCalendar | None = None,
) -> SlaStatus:
    """Every target's deadline and state at ``now``, the clock pauses, and the escalation schedule.

    ``fired`` holds the (target, level) pairs already notified, e.g. ``("first_response", "warning_1")``;
    ``next_escalation_at`` is the earliest ``notify_at`` among the others. Notifications wait for a working
    instant of ``notification_calendar`` (default ``calendar``; ``ALWAYS_OPEN`` pages at any hour).
    All instants returned are UTC. Raises ``InvalidInput`` when the policy has no targets for the ticket's
    priority or an instant is naive.
    """
    now = as_utc(now, "now")
    pauses = derive_pauses(policy, timeline, now)
    statuses = evaluate_targets(policy, calendar, timeline, now)
    steps = schedule_escalations(
        policy,
        calendar,
        statuses,
        clock_pauses(pauses),
        fired=fired,
        notification_calendar=notification_calendar,
    )

    def pending_due(target: SlaTarget) -> datetime | None:
        status = next((s for s in statuses if s.target == target), None)
        return status.due_at if status is not None and status.met_at is None else None

    running = [s.due_at for s in statuses if s.state == TargetState.RUNNING and s.due_at is not None]
    return SlaStatus(
        first_response_due_at=pending_due(SlaTarget.FIRST_RESPONSE),
        next_response_due_at=pending_due(SlaTarget.NEXT_RESPONSE),
        resolution_due_at=pending_due(SlaTarget.RESOLUTION),
        periodic_update_due_at=pending_due(SlaTarget.PERIODIC_UPDATE),
        sla_due_at=min(running, default=None),
        targets=tuple(statuses),
        pauses=tuple(pauses),
        escalations=tuple(steps),
        next_escalation_at=next_escalation_at(steps),
        stopped_at=stopped_since(policy, pauses),
    )
