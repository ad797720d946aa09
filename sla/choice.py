"""Which SLA policy a new ticket gets: the contract that applies and the policy it leads to, chosen in the
database by a few columns that ride along with a query the caller runs anyway, and the policy's terms read
once per process and version.

A policy's ``version`` goes up on every edit of the policy or of its calendar (``sla.admin``), so a cached
(id, version) pair never goes stale: which contract and which policy apply is decided by the query every time.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, FromClause, Select, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased

from sla.defaults import DEFAULT_ACTIONS, DEFAULT_CALENDAR, DEFAULT_POLICY
from sla.models import CalendarRow, ContractRow, PolicyRow
from sla.terms import CompiledPolicy, ResolvedPolicy, compile_spec

_IdColumn = (
    ColumnElement[int] | ColumnElement[int | None] | QueryableAttribute[int] | QueryableAttribute[int | None]
)


@dataclass(frozen=True)
class PolicyChoice:
    """The contract that applies (if any) and the policy it leads to (the default policy without a
    contract; ``policy_id`` None when there is no policy in the database at all)."""

    contract_id: int | None
    tier: int
    policy_id: int | None
    policy_version: int


def with_policy_choice(
    query: Select[Any],
    source: FromClause | type[Any],
    customer_id: _IdColumn,
    organisation_id: _IdColumn,
    at: datetime | ColumnElement[datetime],
) -> Select[Any]:
    """``query`` with four more columns, the fields of :class:`PolicyChoice` in order, for the customer and
    organisation named by two columns of ``source`` (the table or entity it selects from): the customer's
    contract valid at ``at``, else the organisation's (the newest wins among equals), and its policy, else the
    default policy."""
    contract = aliased(ContractRow)
    policy = aliased(PolicyRow)
    chosen = (
        select(ContractRow.id)
        .where(
            or_(ContractRow.customer_id == customer_id, ContractRow.organisation_id == organisation_id),
            ContractRow.valid_from <= at,
            or_(ContractRow.valid_to.is_(None), ContractRow.valid_to > at),
        )
        # A contract of the customer beats one of the organisation; the newest wins among equals.
        .order_by(ContractRow.customer_id.is_(None), ContractRow.valid_from.desc())
        .limit(1)
        .scalar_subquery()
    )
    default = select(PolicyRow.id).where(PolicyRow.is_default.is_(True)).limit(1).scalar_subquery()
    return (
        query.select_from(source)
        .outerjoin(contract, contract.id == chosen)
        .outerjoin(policy, policy.id == func.coalesce(contract.policy_id, default))
        .add_columns(contract.id, contract.tier, policy.id, policy.version)
    )


def choice_from(values: tuple[Any, Any, Any, Any]) -> PolicyChoice:
    """The :class:`PolicyChoice` in the four columns that :func:`with_policy_choice` added."""
    contract_id, tier, policy_id, version = values
    return PolicyChoice(contract_id, tier or 0, policy_id, version or 0)


@dataclass(frozen=True)
class _Terms:
    policy_spec: dict[str, Any]
    calendar_spec: dict[str, Any]
    actions: dict[str, Any]
    notify_any_hour: bool
    compiled: CompiledPolicy


class PolicyCache:
    """Policies' terms by (id, version), compiled, for one process (a runtime): nothing is read back while a
    policy stays as it is. A few hundred policy versions at most are kept."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._terms: OrderedDict[tuple[int, int], _Terms] = OrderedDict()
        self._builtin = _terms(DEFAULT_POLICY, DEFAULT_CALENDAR, DEFAULT_ACTIONS, False)

    async def resolved(self, session: AsyncSession, choice: PolicyChoice) -> ResolvedPolicy:
        """The policy ``choice`` names with its terms; reads the policy and its calendar (one query) only the
        first time this version is seen."""
        if choice.policy_id is None:
            terms, version = self._builtin, 0
            return _resolved(None, version, None, 0, terms)
        key = (choice.policy_id, choice.policy_version)
        terms_or_none = self._terms.get(key)
        version = choice.policy_version
        if terms_or_none is None:
            row = (
                await session.execute(
                    select(PolicyRow, CalendarRow)
                    .join(CalendarRow, CalendarRow.id == PolicyRow.calendar_id)
                    .where(PolicyRow.id == choice.policy_id)
                )
            ).one()
            policy, calendar = row
            # Edited since the choice was made: the terms and the version read together belong together.
            version = policy.version
            terms_or_none = _terms(policy.spec, calendar.spec, policy.actions, policy.notify_any_hour)
            self._terms[(policy.id, version)] = terms_or_none
            while len(self._terms) > self._size:
                self._terms.popitem(last=False)
        return _resolved(choice.policy_id, version, choice.contract_id, choice.tier, terms_or_none)


async def choose_policy(
    session: AsyncSession,
    *,
    organisation_id: int | None,
    customer_id: int | None,
    at: datetime,
    cache: PolicyCache | None = None,
) -> ResolvedPolicy:
    """The customer's contract valid at ``at``, else the organisation's, else the default policy: one query,
    and one more for the policy's terms unless ``cache`` has them."""
    owner = select(
        literal(customer_id, BigInteger()).label("customer_id"),
        literal(organisation_id, BigInteger()).label("organisation_id"),
    ).subquery("owner")
    query = with_policy_choice(select(), owner, owner.c.customer_id, owner.c.organisation_id, at)
    row = (await session.execute(query)).one()
    return await (cache or PolicyCache()).resolved(session, choice_from(tuple(row)))


def _terms(
    policy_spec: dict[str, Any], calendar_spec: dict[str, Any], actions: dict[str, Any], any_hour: bool
) -> _Terms:
    return _Terms(
        policy_spec,
        calendar_spec,
        actions,
        any_hour,
        compile_spec(policy_spec, calendar_spec, actions, any_hour),
    )


def _resolved(
    policy_id: int | None, version: int, contract_id: int | None, tier: int, terms: _Terms
) -> ResolvedPolicy:
    return ResolvedPolicy(
        policy_id=policy_id,
        policy_version=version,
        contract_id=contract_id,
        tier=tier,
        policy_spec=terms.policy_spec,
        calendar_spec=terms.calendar_spec,
        actions=terms.actions,
        notify_any_hour=terms.notify_any_hour,
        compiled=terms.compiled,
    )
