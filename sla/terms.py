"""A policy's terms as a new ticket takes them (:class:`ResolvedPolicy`) and the pure-rule objects compiled
from them (:class:`CompiledPolicy`), cached per distinct terms: many tickets share one snapshot."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import msgspec

from sla.calendar import ALWAYS_OPEN, BusinessCalendar, CalendarSpec, calendar_from_spec
from sla.models import TicketSlaRow
from sla.rules import SlaPolicy


@dataclass(frozen=True)
class ResolvedPolicy:
    """The policy that applies to a new ticket, and the contract that chose it (if any)."""

    policy_id: int | None
    policy_version: int
    contract_id: int | None
    tier: int
    policy_spec: dict[str, Any]
    calendar_spec: dict[str, Any]
    actions: dict[str, Any]
    notify_any_hour: bool
    # The pure-rule objects for these terms when the resolver had them at hand (``sla.choice``).
    compiled: CompiledPolicy | None = field(default=None, compare=False, repr=False)

    def compile(self) -> CompiledPolicy:
        """The pure-rule objects: the resolver's, else compiled once per distinct terms (cached)."""
        if self.compiled is not None:
            return self.compiled
        return _compile(
            json.dumps(self.policy_spec, sort_keys=True),
            json.dumps(self.calendar_spec, sort_keys=True),
            json.dumps(self.actions, sort_keys=True),
            self.notify_any_hour,
        )


@dataclass(frozen=True)
class CompiledPolicy:
    policy: SlaPolicy
    calendar: BusinessCalendar
    notification_calendar: BusinessCalendar
    actions: dict[str, list[dict[str, Any]]]


def compile_policy(sla: TicketSlaRow) -> CompiledPolicy:
    """The pure-rule objects for a ticket's snapshot (cached: many tickets share one snapshot)."""
    return _compile(
        json.dumps(sla.policy_spec, sort_keys=True),
        json.dumps(sla.calendar_spec, sort_keys=True),
        json.dumps(sla.actions, sort_keys=True),
        sla.notify_any_hour,
    )


@lru_cache(maxsize=256)
def _compile(policy_json: str, calendar_json: str, actions_json: str, any_hour: bool) -> CompiledPolicy:
    calendar = calendar_from_spec(msgspec.json.decode(calendar_json, type=CalendarSpec))
    return CompiledPolicy(
        policy=msgspec.json.decode(policy_json, type=SlaPolicy),
        calendar=calendar,
        notification_calendar=ALWAYS_OPEN if any_hour else calendar,
        actions=json.loads(actions_json),
    )


def compile_spec(
    policy_spec: dict[str, Any], calendar_spec: dict[str, Any], actions: dict[str, Any], any_hour: bool
) -> CompiledPolicy:
    """The pure-rule objects for a policy's terms as stored (decoded as JSON, as ``compile_policy`` does)."""
    calendar = calendar_from_spec(msgspec.json.decode(msgspec.json.encode(calendar_spec), type=CalendarSpec))
    return CompiledPolicy(
        policy=msgspec.json.decode(msgspec.json.encode(policy_spec), type=SlaPolicy),
        calendar=calendar,
        notification_calendar=ALWAYS_OPEN if any_hour else calendar,
        actions=actions,
    )
