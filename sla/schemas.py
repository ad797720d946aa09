"""API shapes of calendars, policies, contracts and per-ticket SLA state."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from helpdesk.core.types import Id
from sla.calendar import CalendarSpec
from sla.targets import SlaTargets, WarningThreshold

PolicyName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
PriorityKey = Literal["P1", "P2", "P3", "P4"]
ActionType = Literal[
    "notify_assignee", "notify_queue", "notify_managers", "raise_priority", "reassign_group", "internal_note"
]
Level = Annotated[str, msgspec.Meta(pattern=r"^(warning_[1-9]|breach)$", examples=["warning_1", "breach"])]
Coverage = Annotated[str, msgspec.Meta(min_length=1, max_length=50, examples=["warranty", "premium_24_7"])]


class CalendarCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: PolicyName
    calendar: CalendarSpec


class CalendarUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: PolicyName | msgspec.UnsetType = msgspec.UNSET
    calendar: CalendarSpec | msgspec.UnsetType = msgspec.UNSET


class CalendarRead(msgspec.Struct, kw_only=True):
    id: int
    name: str
    calendar: CalendarSpec
    updated_at: datetime


class EscalationAction(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    type: ActionType
    # For reassign_group: the group (queue) the ticket moves to.
    group_id: Id | None = None


class PolicyCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: PolicyName
    calendar_id: Id
    targets: dict[PriorityKey, SlaTargets]
    warnings: Annotated[list[WarningThreshold], msgspec.Meta(max_length=5)] = msgspec.field(
        default_factory=lambda: [WarningThreshold(percent_of_target=75)]
    )
    pausing_statuses: list[Literal["pending_customer", "pending_internal"]] = msgspec.field(
        default_factory=lambda: ["pending_customer"]
    )
    actions: dict[Level, list[EscalationAction]] | None = None
    notify_any_hour: bool = False
    is_default: bool = False


class PolicyUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: PolicyName | msgspec.UnsetType = msgspec.UNSET
    calendar_id: Id | msgspec.UnsetType = msgspec.UNSET
    targets: dict[PriorityKey, SlaTargets] | msgspec.UnsetType = msgspec.UNSET
    warnings: Annotated[list[WarningThreshold], msgspec.Meta(max_length=5)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    pausing_statuses: list[Literal["pending_customer", "pending_internal"]] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    actions: dict[Level, list[EscalationAction]] | msgspec.UnsetType = msgspec.UNSET
    notify_any_hour: bool | msgspec.UnsetType = msgspec.UNSET
    is_default: bool | msgspec.UnsetType = msgspec.UNSET


class PolicyRead(msgspec.Struct, kw_only=True):
    id: int
    name: str
    calendar_id: int
    targets: dict[str, SlaTargets]
    warnings: list[WarningThreshold]
    pausing_statuses: list[str]
    actions: dict[str, list[EscalationAction]]
    notify_any_hour: bool
    is_default: bool
    version: int
    updated_at: datetime


class ContractCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The start is a day (``starts_on``: from midnight in the zone of the policy's business calendar) or an
    instant with its UTC offset (``valid_from``), one of the two."""

    name: PolicyName
    policy_id: Id
    starts_on: Annotated[
        date | None, msgspec.Meta(description="The first day, in the zone of the policy's calendar")
    ] = None
    valid_from: datetime | None = None
    organisation_id: Id | None = None
    customer_id: Id | None = None
    valid_to: datetime | None = None
    tier: Annotated[int, msgspec.Meta(ge=0, le=3)] = 0
    coverage: Annotated[list[Coverage], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)


class ContractRead(msgspec.Struct, kw_only=True):
    id: int
    name: str
    policy_id: int
    organisation_id: int | None
    customer_id: int | None
    valid_from: datetime
    valid_to: datetime | None
    tier: int
    coverage: list[str]


class TargetRead(msgspec.Struct, kw_only=True):
    target: str
    state: str
    target_minutes: int
    clock_started_at: datetime
    due_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    margin_minutes: float


class PauseRead(msgspec.Struct, kw_only=True):
    status: str
    started_at: datetime
    ended_at: datetime | None
    paused_by: str | None = None


class TicketSlaRead(msgspec.Struct, kw_only=True):
    ticket_id: int
    policy_id: int | None
    policy_version: int
    contract_id: int | None
    targets: list[TargetRead]
    pauses: list[PauseRead]
    next_escalation_at: datetime | None
