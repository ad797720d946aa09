"""Field service on the agent's ticket page: the ticket's work orders, the asset they name with its warranty,
the contracts that cover the customer, and the SLA policy the ticket runs under. Read-only; a fixed number
of queries whatever the number of work orders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch.resources import AssetService, SkillService
from dispatch.service import WorkOrderService
from dispatch.warranty import AssetWarranty, ContractCoverage, decide_billing
from helpdesk.core.principal import Principal
from helpdesk.field.tickets import HelpdeskTickets
from helpdesk.runtime import Runtime
from sla.models import ContractRow, PolicyRow, TicketSlaRow
from sla.service import SlaAdminService

PANEL = "work_orders"


async def work_orders_panel(runtime: Runtime, principal: Principal, ticket_id: int) -> dict[str, Any]:
    """What ``agent/_work_orders.html`` shows. Raises as reading the ticket does."""
    facts = await HelpdeskTickets(runtime).ticket_facts(principal, ticket_id)
    orders = await WorkOrderService(runtime).list_work_orders(principal, ticket_id=ticket_id, limit=20)
    asset_id = next((o.asset_id for o in reversed(orders) if o.asset_id is not None), None)
    asset = await AssetService(runtime).get_asset(asset_id) if asset_id is not None else None
    now = runtime.clock.now()
    contracts = await SlaAdminService(runtime).contracts_covering(
        organisation_id=facts.organisation_id, customer_id=facts.customer_id, at=now
    )
    decision = decide_billing(
        AssetWarranty(asset.serial_number, asset.warranty_until, asset.warranty_terms, asset.contract_id)
        if asset
        else None,
        [ContractCoverage(c.id, c.name, tuple(c.coverage)) for c in contracts],
        now.date(),
    )
    async with runtime.sessions() as session:
        sla_row = (
            await session.execute(
                select(PolicyRow.name, ContractRow.name)
                .select_from(TicketSlaRow)
                .outerjoin(PolicyRow, PolicyRow.id == TicketSlaRow.policy_id)
                .outerjoin(ContractRow, ContractRow.id == TicketSlaRow.contract_id)
                .where(TicketSlaRow.ticket_id == ticket_id)
            )
        ).first()
    return {
        "items": orders,
        "asset": asset,
        "in_warranty": bool(asset and asset.warranty_until and now.date() <= asset.warranty_until),
        "billing": decision,
        "contracts": contracts,
        "policy_name": sla_row[0] if sla_row else None,
        "sla_contract_name": sla_row[1] if sla_row else None,
        "skills": await SkillService(runtime).list_skills(),
    }
