"""The tag rule's field service side: tickets tagged with one of ``HELPDESK_FIELD_ORDER_TAGS`` get one
unscheduled work order, at the customer's only asset, priced as a manual work order would be.

The decision is ``dispatch.rules.tagged_order_decision`` (pure); this module reads what it needs and writes
the work order in the caller's transaction (the help desk's job, which holds the ticket's row lock, so two
runs for one ticket cannot both create one).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dispatch.models import AssetRow, WorkOrderRow
from dispatch.ports import TicketFacts
from dispatch.rules import SiteCandidate, TaggedOrderDecision, TaggedOrderOutcome, tagged_order_decision
from dispatch.schemas import WorkOrderCreate
from dispatch.service import NewWorkOrder, add_work_order, prepare_work_order
from helpdesk.core.context import AppContext
from helpdesk.core.principal import Principal

# The actor of the rule's work orders in their audit trail ("system").
RULE_ACTOR = Principal(name="tag rule")
# More assets than this for one owner are not listed one by one (the rule needs exactly one).
SITE_LOOKUP_LIMIT = 20


async def work_order_ids(session: AsyncSession, ticket_id: int) -> list[int]:
    return list(
        (await session.scalars(select(WorkOrderRow.id).where(WorkOrderRow.ticket_id == ticket_id))).all()
    )


async def _sites(
    session: AsyncSession, column: InstrumentedAttribute[int | None], owner_id: int | None
) -> list[SiteCandidate]:
    if owner_id is None:
        return []
    rows = await session.execute(
        select(AssetRow.id, AssetRow.serial_number, AssetRow.product)
        .where(column == owner_id)
        .order_by(AssetRow.id)
        .limit(SITE_LOOKUP_LIMIT)
    )
    return [SiteCandidate(asset_id, serial, product) for asset_id, serial, product in rows]


class TaggedOrderService:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def decide(
        self, facts: TicketFacts, ticket_tags: Collection[str], rule_tags: Collection[str]
    ) -> TaggedOrderDecision:
        """What the rule does with the ticket of ``facts`` now (see ``tagged_order_decision``)."""
        if not any(tag in rule_tags for tag in ticket_tags):
            return TaggedOrderDecision(TaggedOrderOutcome.NOT_TAGGED)
        async with self.context.sessions() as session:
            existing = await work_order_ids(session, facts.ticket_id)
            customer_sites = await _sites(session, AssetRow.customer_id, facts.customer_id)
            organisation_sites = await _sites(session, AssetRow.organisation_id, facts.organisation_id)
        return tagged_order_decision(rule_tags, ticket_tags, existing, customer_sites, organisation_sites)

    async def prepare(
        self, facts: TicketFacts, decision: TaggedOrderDecision, duration_minutes: int, now: datetime
    ) -> NewWorkOrder:
        """The work order of a ``CREATE`` decision: at the chosen asset, for ``duration_minutes``, no skills
        or windows yet, its warranty decision made as for a manual work order."""
        assert decision.outcome == TaggedOrderOutcome.CREATE
        assert decision.asset_id is not None
        request = WorkOrderCreate(
            ticket_id=facts.ticket_id, asset_id=decision.asset_id, duration_minutes=duration_minutes
        )
        return await prepare_work_order(self.context, facts, request, now)

    async def add_in(
        self, session: AsyncSession, now: datetime, new: NewWorkOrder, decision: TaggedOrderDecision
    ) -> WorkOrderRow | None:
        """Write the work order in the caller's transaction unless the ticket has one by now (``None``);
        the caller holds the ticket's row lock."""
        if await work_order_ids(session, new.facts.ticket_id):
            return None
        origin = f"made by the tag rule: the ticket is tagged {decision.tag!r}, {decision.detail}"
        return await add_work_order(session, now, RULE_ACTOR, new, origin=origin)
