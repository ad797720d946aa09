"""The policy for new tickets: of many customers at once (:func:`resolve_policies`) or of one
(:func:`resolve_policy`).

A batch of inbound mail opens tickets for dozens of customers; asking once per customer costs three or four
queries each. Here the contracts of every owner, then their policies (with the default) and calendars, are
two queries for the whole batch, and ``sla.contract_rule`` decides: the customer's contract valid at
``at``, else the organisation's (the newest among equals), else the default policy, else the built-in one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sla.contract_rule import Owner, choose_contract, chosen_policy_id
from sla.defaults import DEFAULT_ACTIONS, DEFAULT_CALENDAR, DEFAULT_POLICY
from sla.models import CalendarRow, ContractRow, PolicyRow
from sla.terms import ResolvedPolicy

if TYPE_CHECKING:
    from sla.choice import PolicyCache

# Owner and choose_contract are imported from here by the batch intake.
__all__ = ["Owner", "choose_contract", "resolve_policies", "resolve_policy"]

_BUILT_IN = ResolvedPolicy(None, 0, None, 0, DEFAULT_POLICY, DEFAULT_CALENDAR, DEFAULT_ACTIONS, False)


async def resolve_policies(
    session: AsyncSession, owners: Iterable[Owner], at: datetime
) -> dict[Owner, ResolvedPolicy]:
    """Each owner's policy for a ticket opened at ``at`` (see the module docstring), in two queries for any
    number of owners."""
    wanted = list(dict.fromkeys(owners))
    if not wanted:
        return {}
    customer_ids = {c for _, c in wanted if c is not None}
    organisation_ids = {o for o, _ in wanted if o is not None}
    conditions = []
    if customer_ids:
        conditions.append(ContractRow.customer_id.in_(customer_ids))
    if organisation_ids:
        conditions.append(ContractRow.organisation_id.in_(organisation_ids))
    contracts: list[ContractRow] = []
    if conditions:
        contracts = list(
            await session.scalars(
                select(ContractRow)
                .where(or_(*conditions), ContractRow.valid_from <= at,
                       or_(ContractRow.valid_to.is_(None), ContractRow.valid_to > at))
                .order_by(ContractRow.id)
            )
        )  # fmt: skip
    chosen = {owner: choose_contract(contracts, owner, at) for owner in wanted}
    policy_ids = {c.policy_id for c in chosen.values() if c is not None}
    rows = await session.execute(
        select(PolicyRow, CalendarRow)
        .join(CalendarRow, CalendarRow.id == PolicyRow.calendar_id)
        .where(or_(PolicyRow.id.in_(policy_ids), PolicyRow.is_default.is_(True)))
        .order_by(PolicyRow.id)
    )
    policies: dict[int, PolicyRow] = {}
    calendars: dict[int, CalendarRow] = {}
    for policy_row, calendar_row in rows:
        policies[policy_row.id] = policy_row
        calendars[calendar_row.id] = calendar_row
    default = next((p for p in policies.values() if p.is_default), None)
    resolved: dict[Owner, ResolvedPolicy] = {}
    for owner, contract in chosen.items():
        policy_id = chosen_policy_id(contract, default.id if default is not None else None)
        policy = policies.get(policy_id) if policy_id is not None else None
        if policy is None:
            resolved[owner] = _BUILT_IN
            continue
        resolved[owner] = ResolvedPolicy(
            policy_id=policy.id,
            policy_version=policy.version,
            contract_id=contract.id if contract is not None else None,
            tier=contract.tier if contract is not None else 0,
            policy_spec=policy.spec,
            calendar_spec=calendars[policy.calendar_id].spec,
            actions=policy.actions,
            notify_any_hour=policy.notify_any_hour,
        )
    return resolved


async def resolve_policy(
    session: AsyncSession,
    *,
    organisation_id: int | None,
    customer_id: int | None,
    at: datetime,
    cache: PolicyCache | None = None,
) -> ResolvedPolicy:
    """One owner's policy for a ticket opened at ``at``: the batch of one.

    With ``cache`` (a process's ``sla.choice.PolicyCache``) one query decides, and the policy's terms are read
    only for a version not seen before.
    """
    if cache is not None:
        from sla.choice import choose_policy

        return await choose_policy(
            session, organisation_id=organisation_id, customer_id=customer_id, at=at, cache=cache
        )
    owner = (organisation_id, customer_id)
    return (await resolve_policies(session, [owner], at))[owner]
