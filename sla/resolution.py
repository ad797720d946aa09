"""The policy for new tickets of many customers at once: :func:`sla.service.resolve_policy` for a batch.

A batch of inbound mail opens tickets for dozens of customers; asking once per customer costs three or four
queries each. Here the contracts of every owner, their policies (with the default) and the calendars are
three queries for the whole batch, and :func:`choose_contract` applies the same rule in Python: the
customer's contract valid at ``at``, else the organisation's (the newest among equals), else the default
policy, else the built-in one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sla.defaults import DEFAULT_ACTIONS, DEFAULT_CALENDAR, DEFAULT_POLICY
from sla.models import CalendarRow, ContractRow, PolicyRow
from sla.service import ResolvedPolicy

# (organisation id, customer id) of the customer a new ticket is for.
Owner = tuple[int | None, int | None]

_BUILT_IN = ResolvedPolicy(None, 0, None, 0, DEFAULT_POLICY, DEFAULT_CALENDAR, DEFAULT_ACTIONS, False)


class ContractLike(Protocol):
    @property
    def customer_id(self) -> int | None: ...
    @property
    def organisation_id(self) -> int | None: ...
    @property
    def valid_from(self) -> datetime: ...
    @property
    def valid_to(self) -> datetime | None: ...


C = TypeVar("C", bound=ContractLike)


def choose_contract(contracts: Sequence[C], owner: Owner, at: datetime) -> C | None:
    """The contract that decides ``owner``'s policy at ``at``: one naming the customer beats one found
    through the organisation; the latest ``valid_from`` wins among equals. Pure."""
    organisation_id, customer_id = owner
    matching = [
        contract
        for contract in contracts
        if ((customer_id is not None and contract.customer_id == customer_id)
            or (organisation_id is not None and contract.organisation_id == organisation_id))
        and contract.valid_from <= at
        and (contract.valid_to is None or contract.valid_to > at)
    ]  # fmt: skip
    if not matching:
        return None
    return min(matching, key=lambda c: (c.customer_id is None, -c.valid_from.timestamp()))


async def resolve_policies(
    session: AsyncSession, owners: Iterable[Owner], at: datetime
) -> dict[Owner, ResolvedPolicy]:
    """Each owner's policy for a ticket opened at ``at`` (see the module docstring), in at most three
    queries for any number of owners."""
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
    policies = {
        p.id: p
        for p in await session.scalars(
            select(PolicyRow)
            .where(or_(PolicyRow.id.in_(policy_ids), PolicyRow.is_default.is_(True)))
            .order_by(PolicyRow.id)
        )
    }
    default = next((p for p in policies.values() if p.is_default), None)
    calendar_ids = {p.calendar_id for p in policies.values()}
    calendars = {
        c.id: c for c in await session.scalars(select(CalendarRow).where(CalendarRow.id.in_(calendar_ids)))
    }
    resolved: dict[Owner, ResolvedPolicy] = {}
    for owner, contract in chosen.items():
        policy = policies.get(contract.policy_id) if contract is not None else None
        if policy is None:
            policy = default
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
