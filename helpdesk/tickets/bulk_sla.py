"""The SLA side of opening many tickets at once (see :mod:`helpdesk.tickets.bulk`): whose contract decides each
new ticket's policy, its deadlines at creation, and what ``start_sla`` writes for it, for the whole batch.

Every ticket of a batch is created at the same instant, so tickets under the same policy and priority share
their deadlines: they are evaluated once per (policy, priority), not once per ticket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.customers.models import Customer
from helpdesk.tickets.batch import OpenedTicket, TicketBatch
from helpdesk.tickets.bulk_rows import NewRows
from helpdesk.tickets.rules import DEFAULT_PRIORITY, TicketStatus
from helpdesk.tickets.sla_sync import raised_priority
from sla.models import ScheduledStepRow, TargetStateRow, TicketSlaRow
from sla.resolution import Owner
from sla.rules import SlaStatus, TicketTimeline, evaluate_sla
from sla.service import ResolvedPolicy, compile_policy, pending_steps, step_rows, target_rows


async def policy_owners(session: AsyncSession, batch: TicketBatch) -> dict[int, Owner]:
    """(organisation, customer) whose contract decides each opened ticket's policy; a follow-up's customer
    (the closed ticket's) may not be in the batch, so their organisation is read."""
    owners: dict[int, Owner] = {}
    unknown: set[int] = set()
    for opened in batch.opened:
        if opened.customer is not None:
            owners[opened.key] = (opened.customer.organisation_id, opened.customer.id)
        else:
            unknown.add(opened.policy_customer_id)
    organisations: dict[int, int | None] = {}
    if unknown:
        rows = await session.execute(
            select(Customer.id, Customer.organisation_id).where(Customer.id.in_(unknown))
        )
        organisations = {int(customer_id): organisation_id for customer_id, organisation_id in rows}
    for opened in batch.opened:
        if opened.customer is None:
            owners[opened.key] = (organisations.get(opened.policy_customer_id), opened.policy_customer_id)
    return owners


def priority_of(opened: OpenedTicket, policy: ResolvedPolicy) -> str:
    if opened.follow_up_of is not None:
        return opened.follow_up_of.priority
    return raised_priority(DEFAULT_PRIORITY, policy.tier).value


def new_ticket_statuses(
    opened: Sequence[tuple[OpenedTicket, ResolvedPolicy]], now: datetime
) -> dict[int, SlaStatus]:
    """Each new ticket's SLA at its creation, evaluated once per policy and priority (the tickets of a batch
    are all created at ``now``, so they share deadlines)."""
    evaluated: dict[tuple[Any, ...], SlaStatus] = {}
    statuses = {}
    for ticket, policy in opened:
        priority = priority_of(ticket, policy)
        key = (policy.policy_id, policy.policy_version, policy.notify_any_hour, priority)
        if key not in evaluated:
            compiled = compile_policy(
                TicketSlaRow(
                    policy_spec=policy.policy_spec,
                    calendar_spec=policy.calendar_spec,
                    actions=policy.actions,
                    notify_any_hour=policy.notify_any_hour,
                )
            )
            timeline = TicketTimeline(created_at=now, priority=priority, initial_status=TicketStatus.NEW)
            evaluated[key] = evaluate_sla(
                compiled.policy,
                compiled.calendar,
                timeline,
                now,
                notification_calendar=compiled.notification_calendar,
            )
        statuses[ticket.key] = evaluated[key]
    return statuses


def sla_rows(
    opened: Sequence[tuple[OpenedTicket, ResolvedPolicy]],
    statuses: Mapping[int, SlaStatus],
    ticket_ids: Mapping[int, int],
    now: datetime,
) -> list[NewRows]:
    """What ``start_sla`` writes for new tickets: their policy snapshots, target states and scheduled steps
    (the rows ``attach_policy``, ``record_targets`` and ``schedule_steps`` write)."""
    snapshots = [
        {
            "ticket_id": ticket_ids[o.key],
            "policy_id": p.policy_id,
            "policy_version": p.policy_version,
            "contract_id": p.contract_id,
            "policy_spec": p.policy_spec,
            "calendar_spec": p.calendar_spec,
            "actions": p.actions,
            "notify_any_hour": p.notify_any_hour,
            "assigned_at": now,
        }
        for o, p in opened
    ]
    # The same rows the SLA service writes for one ticket, for all of the batch's at once.
    targets = [row for o, _ in opened for row in target_rows(ticket_ids[o.key], statuses[o.key])]
    steps = [
        row for o, _ in opened for row in step_rows(ticket_ids[o.key], pending_steps(statuses[o.key], set()))
    ]
    return [
        NewRows(table_of(TicketSlaRow), snapshots),
        NewRows(table_of(TargetStateRow), targets),
        NewRows(table_of(ScheduledStepRow), steps),
    ]


def table_of(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table
