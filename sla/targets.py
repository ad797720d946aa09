"""The SLA clocks of one ticket: policy targets, the ticket's timeline, pauses, and each target's state.

Pure: everything, ``now`` included, comes in as arguments. ``sla.rules.evaluate_sla`` puts these together with
the escalation schedule; the rules themselves are listed in that module's docstring.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from helpdesk.core.errors import InvalidInput
from sla.business_time import MAX_MINUTES, Pause, add_business_minutes, as_utc, business_minutes_between
from sla.calendar import BusinessCalendar


class SlaTarget(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"
    PERIODIC_UPDATE = "periodic_update"


class TargetState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


PositiveMinutes = Annotated[int, msgspec.Meta(gt=0, le=MAX_MINUTES)]


class SlaTargets(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Business minutes allowed per target for one priority; ``None`` switches a target off."""

    first_response_minutes: PositiveMinutes
    resolution_minutes: PositiveMinutes
    next_response_minutes: PositiveMinutes | None = None
    periodic_update_minutes: PositiveMinutes | None = None

    def minutes_for(self, target: SlaTarget) -> int | None:
        return {
            SlaTarget.FIRST_RESPONSE: self.first_response_minutes,
            SlaTarget.NEXT_RESPONSE: self.next_response_minutes,
            SlaTarget.RESOLUTION: self.resolution_minutes,
            SlaTarget.PERIODIC_UPDATE: self.periodic_update_minutes,
        }[target]


class WarningThreshold(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A warning level: at a share of the target used or minutes before the deadline, whichever is first."""

    percent_of_target: Annotated[float, msgspec.Meta(gt=0, lt=100)] | None = None
    minutes_before: PositiveMinutes | None = None

    def __post_init__(self) -> None:
        if self.percent_of_target is None and self.minutes_before is None:
            raise InvalidInput("warnings: give percent_of_target, minutes_before or both", field="warnings")

    def elapsed_minutes(self, target_minutes: int) -> float:
        """Business minutes after the clock's start at which this warning is due (never negative)."""
        candidates: list[float] = []
        if self.percent_of_target is not None:
            candidates.append(target_minutes * self.percent_of_target / 100)
        if self.minutes_before is not None:
            candidates.append(max(0, target_minutes - self.minutes_before))
        return min(candidates)


class SlaPolicy(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Targets per priority (``P1``..``P4``) and warning levels (``warning_1``, ``warning_2``... in order)."""

    targets: dict[str, SlaTargets]
    warnings: tuple[WarningThreshold, ...] = (WarningThreshold(percent_of_target=75),)
    pausing_statuses: frozenset[str] = frozenset({"pending_customer"})
    stopping_statuses: frozenset[str] = frozenset({"resolved", "closed"})

    def __post_init__(self) -> None:
        both = sorted(self.pausing_statuses & self.stopping_statuses)
        if both:
            raise InvalidInput(
                f"pausing_statuses: {both[0]!r} is a stopping status too", field="pausing_statuses"
            )


class StatusChange(msgspec.Struct, frozen=True):
    at: datetime
    status: str


class TicketTimeline(msgspec.Struct, kw_only=True, frozen=True):
    """What the SLA needs to know about a ticket. Instants must be aware; lists need not be sorted."""

    created_at: datetime
    priority: str
    initial_status: str = "new"
    status_changes: tuple[StatusChange, ...] = ()
    # Customer messages after the one that created the ticket.
    customer_messages: tuple[datetime, ...] = ()
    agent_public_replies: tuple[datetime, ...] = ()


class PauseInterval(msgspec.Struct, frozen=True):
    """A stretch in which every clock stood still because of ``status``; open while ``ended_at`` is None."""

    status: str
    started_at: datetime
    ended_at: datetime | None


class TargetStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One target's clock. ``due_at`` is None only while paused (the deadline is not known then).

    ``margin_minutes`` is the target minus the business minutes used (until ``met_at`` or ``now``):
    positive is time to spare, negative is how late.
    """

    target: SlaTarget
    state: TargetState
    target_minutes: int
    clock_started_at: datetime
    due_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    margin_minutes: float


def evaluate_targets(
    policy: SlaPolicy, calendar: BusinessCalendar, timeline: TicketTimeline, now: datetime
) -> list[TargetStatus]:
    """The state at ``now`` of every armed target the ticket's priority has, in ``SlaTarget`` order.

    Raises ``InvalidInput`` when the policy has no targets for the priority or an instant is naive.
    """
    now = as_utc(now, "now")
    created_at = as_utc(timeline.created_at, "created_at")
    targets = policy.targets.get(timeline.priority)
    if targets is None:
        raise InvalidInput(
            f"priority: the SLA policy has no targets for {timeline.priority!r}", field="priority"
        )
    pauses = derive_pauses(policy, timeline, now)
    replies = _instants(timeline.agent_public_replies, "agent_public_replies", created_at, now)
    messages = _instants(timeline.customer_messages, "customer_messages", created_at, now)

    # (target, clock start, instant met or None) for each clock that is armed.
    clocks: list[tuple[SlaTarget, datetime, datetime | None]] = [
        (SlaTarget.FIRST_RESPONSE, created_at, replies[0] if replies else None)
    ]
    if targets.next_response_minutes is not None and replies:
        cycle = _latest_next_response_cycle(messages, replies)
        if cycle is not None:
            clocks.append((SlaTarget.NEXT_RESPONSE, *cycle))
    clocks.append((SlaTarget.RESOLUTION, created_at, stopped_since(policy, pauses)))
    if targets.periodic_update_minutes is not None and replies:
        clocks.append((SlaTarget.PERIODIC_UPDATE, replies[-1], None))

    statuses: list[TargetStatus] = []
    for target, started_at, met_at in clocks:
        minutes = targets.minutes_for(target)
        if minutes is not None:
            statuses.append(
                _evaluate(
                    calendar,
                    target=target,
                    minutes=minutes,
                    started_at=started_at,
                    met_at=met_at,
                    pauses=clock_pauses(pauses),
                    now=now,
                )
            )
    return statuses


def clock_pauses(pauses: Sequence[PauseInterval]) -> list[Pause]:
    """``pauses`` in the (start, end) form the business-time functions take."""
    return [(pause.started_at, pause.ended_at) for pause in pauses]


def derive_pauses(policy: SlaPolicy, timeline: TicketTimeline, now: datetime) -> list[PauseInterval]:
    """The stretches spent in pausing or stopping statuses up to ``now``, in order; the last may be open.

    Status changes before creation count from creation; changes after ``now`` are ignored.
    Raises ``InvalidInput`` for a naive instant.
    """
    created_at = as_utc(timeline.created_at, "created_at")
    now = as_utc(now, "now")
    changes = sorted(
        (
            (max(as_utc(change.at, f"status_changes[{index}].at"), created_at), change.status)
            for index, change in enumerate(timeline.status_changes)
        ),
        key=lambda change: change[0],
    )
    runs: list[tuple[str, datetime]] = [(timeline.initial_status, created_at)]
    for at, status in changes:
        if at > now or status == runs[-1][0]:
            continue
        if at == runs[-1][1]:
            # Two changes at one instant: only the later status ever held.
            runs.pop()
            if runs and runs[-1][0] == status:
                continue
        runs.append((status, at))
    stops_clock = policy.pausing_statuses | policy.stopping_statuses
    pauses: list[PauseInterval] = []
    for index, (status, since) in enumerate(runs):
        until = runs[index + 1][1] if index + 1 < len(runs) else None
        if status in stops_clock:
            pauses.append(PauseInterval(status=status, started_at=since, ended_at=until))
    return pauses


def stopped_since(policy: SlaPolicy, pauses: Sequence[PauseInterval]) -> datetime | None:
    """When the ticket entered the stopping statuses it is still in (resolved, then closed: the resolving);
    None while it is in none. Resolution is met then, and every clock stands still until a reopening."""
    resolved_at: datetime | None = None
    expected_end: datetime | None = None
    for pause in reversed(pauses):
        if pause.status not in policy.stopping_statuses or pause.ended_at != expected_end:
            break
        resolved_at, expected_end = pause.started_at, pause.started_at
    return resolved_at


def _latest_next_response_cycle(
    messages: list[datetime], replies: list[datetime]
) -> tuple[datetime, datetime | None] | None:
    """(first unanswered message, the reply that answered it or None) of the latest cycle, if any."""
    cycle: tuple[datetime, datetime | None] | None = None
    for message in messages:
        if message <= replies[0]:
            continue
        index = bisect_left(replies, message)
        answer = replies[index] if index < len(replies) else None
        if cycle is None or cycle[1] != answer:
            cycle = (message, answer)
    return cycle


def _evaluate(
    calendar: BusinessCalendar,
    *,
    target: SlaTarget,
    minutes: int,
    started_at: datetime,
    met_at: datetime | None,
    pauses: list[Pause],
    now: datetime,
) -> TargetStatus:
    if met_at is not None:
        # Judge against the deadline as it stood when met: later pauses (the ticket resolved) don't count.
        before: list[Pause] = [(s, met_at if e is None or e > met_at else e) for s, e in pauses if s < met_at]
        due = add_business_minutes(calendar, started_at, minutes, before)
        used = business_minutes_between(calendar, started_at, met_at, before)
        late = due is not None and due < met_at
        return TargetStatus(
            target=target,
            state=TargetState.BREACHED if late else TargetState.MET,
            target_minutes=minutes,
            clock_started_at=started_at,
            due_at=due,
            met_at=met_at,
            breached_at=due if late else None,
            margin_minutes=minutes - used,
        )
    due = add_business_minutes(calendar, started_at, minutes, pauses)
    used = business_minutes_between(calendar, started_at, now, pauses)
    if due is not None and due <= now:
        state = TargetState.BREACHED
    elif any(s <= now and (e is None or e > now) for s, e in pauses):
        state = TargetState.PAUSED
    else:
        state = TargetState.RUNNING
    return TargetStatus(
        target=target,
        state=state,
        target_minutes=minutes,
        clock_started_at=started_at,
        due_at=due,
        met_at=None,
        breached_at=due if state == TargetState.BREACHED else None,
        margin_minutes=minutes - used,
    )


def _instants(
    values: tuple[datetime, ...], field: str, created_at: datetime, now: datetime
) -> list[datetime]:
    converted = (as_utc(value, f"{field}[{index}]") for index, value in enumerate(values))
    return sorted(value for value in converted if created_at <= value <= now)
