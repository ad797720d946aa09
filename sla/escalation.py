"""The escalation schedule: when each running target warns and breaches, and when people hear about it.

Pure. Warning levels come from ``SlaPolicy.warnings`` (``warning_1``, ``warning_2``... in order) and every
unmet target with a known deadline has a ``breach`` level. The sweep notifies the steps whose ``notify_at`` has
come, records them as fired (target, level) pairs, and sleeps until ``next_escalation_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from datetime import datetime

import msgspec

from sla.business_time import Pause, add_business_minutes, next_working_instant
from sla.calendar import BusinessCalendar
from sla.targets import SlaPolicy, SlaTarget, TargetState, TargetStatus

BREACH = "breach"


def warning_level(index: int) -> str:
    """The level name of ``SlaPolicy.warnings[index]``: ``warning_1`` for the first."""
    return f"warning_{index + 1}"


class EscalationStep(msgspec.Struct, frozen=True, kw_only=True):
    """A warning or breach: ``at`` on the business clock, to be notified at ``notify_at``.

    A new next-response or periodic-update cycle (a new ``clock_started_at``) re-arms that target's steps,
    so the caller forgets the target's fired pairs when its ``clock_started_at`` changes.
    """

    target: SlaTarget
    level: str
    at: datetime
    notify_at: datetime
    clock_started_at: datetime
    fired: bool


def schedule_escalations(
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    statuses: Iterable[TargetStatus],
    pauses: Sequence[Pause],
    *,
    fired: Set[tuple[str, str]] = frozenset(),
    notification_calendar: BusinessCalendar | None = None,
) -> list[EscalationStep]:
    """Every warning and breach step of the unmet targets, sorted by ``notify_at``.

    Paused targets have no steps (their deadline is unknown until the clock runs again); a breached target
    keeps only its breach step, since a warning after the fact would only confuse. ``notify_at`` is the next
    working instant of ``notification_calendar`` (default ``calendar``) at or after ``at``, so a breach at
    Friday 18:00 is notified on Monday morning unless the notification calendar is 24/7 (``ALWAYS_OPEN``).
    """
    notify_calendar = notification_calendar or calendar
    steps: list[EscalationStep] = []
    for status in statuses:
        if status.met_at is not None or status.due_at is None:
            continue
        levels: list[tuple[str, datetime]] = []
        if status.state == TargetState.RUNNING:
            for index, threshold in enumerate(policy.warnings):
                elapsed = threshold.elapsed_minutes(status.target_minutes)
                at = add_business_minutes(calendar, status.clock_started_at, elapsed, pauses)
                if at is not None:
                    levels.append((warning_level(index), at))
        levels.append((BREACH, status.due_at))
        steps.extend(
            EscalationStep(
                target=status.target,
                level=level,
                at=at,
                notify_at=next_working_instant(notify_calendar, at),
                clock_started_at=status.clock_started_at,
                fired=(status.target.value, level) in fired,
            )
            for level, at in levels
        )
    steps.sort(key=lambda step: step.notify_at)
    return steps


def next_escalation_at(steps: Iterable[EscalationStep]) -> datetime | None:
    """The earliest ``notify_at`` of the steps not fired yet; None when nothing is left to notify."""
    return min((step.notify_at for step in steps if not step.fired), default=None)
