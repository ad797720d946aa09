"""A work order in one step from the agent's ticket page; the ticket's work orders in its side panel.

The form is converted into ``WorkOrderCreate`` and handed to the dispatch service, so the rules (skills,
location, windows, the warranty decision) are the service's; a rejected field is shown next to its input.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from litestar import Controller, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from dispatch.schemas import WorkOrderCreate
from dispatch.service import WorkOrderService
from helpdesk.core.errors import DomainError
from helpdesk.core.principal import PrincipalDep
from helpdesk.field.panel import PANEL, work_orders_panel
from helpdesk.field.tickets import HelpdeskTickets
from helpdesk.runtime import RuntimeDep
from helpdesk.web import hooks
from helpdesk.web.agent_ticket import _ticket_page
from helpdesk.web.forms import FormErrors, convert, errors_of
from helpdesk.web.i18n import N_
from helpdesk.web.render import Req, checked_form, field, optional_int, require_staff, zone_of

hooks.register_ticket_panel(PANEL, work_orders_panel)

FIELDS = (
    "duration_minutes",
    "required_skills",
    "asset_serial",
    "address",
    "lat",
    "lon",
    "window_start",
    "window_end",
    "priority",
)
# Schema paths whose form field has another name.
ALIASES = {
    "location": "address",
    "location.address": "address",
    "location.lat": "lat",
    "location.lon": "lon",
    "windows.start_at": "window_start",
    "windows.end_at": "window_end",
    "windows": "window_end",
}


def form_errors(exc: FormErrors | DomainError, aliases: dict[str, str]) -> dict[str, str]:
    """Errors by form field; an unknown skill (``skills.<name>``) is named on the skills field."""
    if isinstance(exc, FormErrors):
        return exc.errors
    prefix, _, skill = (exc.field or "").partition(".")
    if prefix in ("skills", "required_skills") and skill:
        return {prefix: f"{skill}: unknown skill; add it to the skill catalogue first"}
    return errors_of(exc, aliases)


def parse_skills(text: str) -> dict[str, Any]:
    """``boiler:2, electrical`` → ``{"boiler": 2, "electrical": 1}``; a bad level is left for the schema."""
    skills: dict[str, Any] = {}
    for part in text.replace(";", ",").split(","):
        name, _, level = part.partition(":")
        if name.strip():
            level = level.strip()
            skills[name.strip().lower()] = int(level) if level.isdigit() else (level or 1)
    return skills


def _instant(text: str, zone: tzinfo) -> str:
    """<input type="datetime-local"> sends 2027-03-01T09:00, a wall-clock time in the agent's zone (the form
    names it): the same instant in UTC; anything else is left for the schema to refuse."""
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        return text
    if local.tzinfo is not None:
        return text
    return local.replace(tzinfo=zone).astimezone(UTC).isoformat().replace("+00:00", "Z")


def work_order_payload(ticket_id: int, values: dict[str, str], zone: tzinfo = UTC) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ticket_id": ticket_id,
        "duration_minutes": _whole(values["duration_minutes"], "duration_minutes"),
        "required_skills": parse_skills(values["required_skills"]),
    }
    if values["asset_serial"]:
        payload["asset_serial"] = values["asset_serial"]
    if values["address"] or values["lat"] or values["lon"]:
        payload["location"] = {
            "address": values["address"],
            "lat": _number(values["lat"]),
            "lon": _number(values["lon"]),
        }
    if values["window_start"] or values["window_end"]:
        payload["windows"] = [
            {
                "start_at": _instant(values["window_start"], zone),
                "end_at": _instant(values["window_end"], zone),
            }
        ]
    if values["priority"]:
        payload["priority"] = _whole(values["priority"], "priority")
    return payload


def _whole(text: str, name: str) -> int:
    number = optional_int(text)
    if number is None:
        raise FormErrors({name: N_("Give a whole number.")})
    return number


def _number(text: str) -> float | str:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return text


class WorkOrderPages(Controller):
    path = "/agent/tickets"
    include_in_schema = False

    @post("/{ticket_id:int}/work-orders")
    async def create(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, ticket_id: FromPath[int]
    ) -> Template | Redirect:
        """Create an unscheduled work order for the ticket; the warranty decision is the service's."""
        require_staff(principal)
        form = await checked_form(request, principal)
        values = {name: field(form, name) for name in FIELDS}
        try:
            payload = work_order_payload(ticket_id, values, zone_of(request, principal))
            data = convert(payload, WorkOrderCreate, ALIASES)
            order = await WorkOrderService(runtime).create_from_ticket(
                principal, data, HelpdeskTickets(runtime)
            )
        except (FormErrors, DomainError) as exc:
            errors = form_errors(exc, ALIASES)
            return await _ticket_page(
                request,
                principal,
                runtime,
                ticket_id,
                status_code=422,
                wo_errors={k or "duration_minutes": v for k, v in errors.items()},
                wo_values=values,
            )
        return Redirect(
            f"/agent/tickets/{ticket_id}?work_order={order.reference}#work-orders", status_code=303
        )
