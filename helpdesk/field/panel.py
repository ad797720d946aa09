"""Field service on the agent's ticket page: the ticket's work orders, the asset they name with its warranty,
the contracts that cover the customer, and the SLA policy the ticket runs under. Read-only; a fixed number
of queries whatever the number of work orders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch.resources import AssetService, SkillService
from dispatch.service import WorkOrderService, billing_for
from helpdesk.core.principal import Principal
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Ticket
from sla.models import ContractRow, PolicyRow, TicketSlaRow

PANEL = "work_orders"


async def work_orders_panel(runtime: Runtime, principal: Principal, ticket_id: int) -> dict[str, Any]:
    """What ``agent/_work_orders.html`` shows; called by the ticket page after it checked the principal may
    see the ticket."""
    async with runtime.sessions() as session:
        # The ticket page has checked that the principal may see the ticket; one row for its owner and SLA.
        row = (
            await session.execute(
                select(Ticket.customer_id, Ticket.organisation_id, PolicyRow.name, ContractRow.name)
                .outerjoin(TicketSlaRow, TicketSlaRow.ticket_id == Ticket.id)
                .outerjoin(PolicyRow, PolicyRow.id == TicketSlaRow.policy_id)
                .outerjoin(ContractRow, ContractRow.id == TicketSlaRow.contract_id)
                .where(Ticket.id == ticket_id)
            )
        ).one()
    customer_id, organisation_id, policy_name, sla_contract_name = row
    orders = await WorkOrderService(runtime).list_work_orders(principal, ticket_id=ticket_id, limit=20)
    asset_id = next((o.asset_id for o in reversed(orders) if o.asset_id is not None), None)
    asset = await AssetService(runtime).get_asset(asset_id) if asset_id is not None else None
    now = runtime.clock.now()
    decision, contracts = await billing_for(
        runtime, asset, organisation_id=organisation_id, customer_id=customer_id, at=now
    )
    return {
        "items": orders,
        "asset": asset,
        "in_warranty": bool(asset and asset.warranty_until and now.date() <= asset.warranty_until),
        "billing": decision,
        "contracts": contracts,
        "policy_name": policy_name,
        "sla_contract_name": sla_contract_name,
        "skills": await SkillService(runtime).list_skills(),
    }
