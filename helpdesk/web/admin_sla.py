"""Administration of the SLA: business calendars, policies and contracts. Each form is converted into the SLA
API's schema, so the rules are the API's; a refused form shows the page again with each message next to its
field, in the reader's language (``submit_form``)."""

from __future__ import annotations

import importlib
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from helpdesk.core.errors import DomainError
from helpdesk.core.principal import Principal, PrincipalDep
from helpdesk.customers.queries import CustomerQueries
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.web.admin import ADMIN, WEEKDAYS
from helpdesk.web.forms import (
    Explain,
    FormErrors,
    convert,
    errors_of,
    explained_by,
    field_name,
    submit_form,
)
from helpdesk.web.i18n import N_
from helpdesk.web.render import FormState, Req, checked_form, field, form_page, optional_int, require_staff
from sla.schemas import CalendarCreate, ContractCreate, PolicyCreate
from sla.targets import SlaTargets

PAGE = "/admin/sla"
PRIORITIES = ("P1", "P2", "P3", "P4")
KINDS = ("calendar", "policy", "contract")
# Schema paths whose form field has another name (the calendar's fields sit under "calendar" in the schema).
CALENDAR_FIELDS = {
    "calendar.24/7": "always_open",
    "24/7": "always_open",
    **{
        f"{prefix}{name}": name
        for prefix in ("calendar.", "")
        for name in ("timezone", "holidays", "holiday_country")
    },
    **{f"{prefix}week.{d}": f"week_{d}" for prefix in ("calendar.", "") for d in WEEKDAYS},
    "calendar.week": "week",
    "calendar": "",
}
# The contract form's start is a day (its input keeps the name the list shows); the service sets the instant.
CONTRACT_FIELDS = {"starts_on": "valid_from"}
# Refusals that name the schema's fields or an id the form never showed (a list was empty, or something was
# deleted meanwhile): what to do instead, on the field.
explain_by_code = explained_by(
    {
        ("invalid_input", "calendar_id"): N_("Choose a calendar from the list."),
        ("invalid_input", "policy_id"): N_("Choose a policy from the list."),
        ("invalid_input", "organisation_id"): N_("Choose the organisation the contract is for."),
        ("invalid_input", "starts_on"): N_("required"),
    }
)


def _sla_admin(runtime: Runtime) -> Any:
    # Looked up through the API module, which always imports the SLA admin service from where it lives.
    return importlib.import_module("sla.api").SlaAdminService(runtime)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def calendar_payload(form: Any) -> dict[str, Any]:
    week = {day: _split(field(form, f"week_{day}")) for day in WEEKDAYS}
    calendar: dict[str, Any] = {"timezone": field(form, "timezone") or "UTC", "week": week}
    if _split(field(form, "holidays")):
        calendar["holidays"] = _split(field(form, "holidays"))
    if field(form, "holiday_country"):
        calendar["holiday_country"] = field(form, "holiday_country").upper()
    if field(form, "always_open"):
        calendar["24/7"] = True
    return {"name": field(form, "name"), "calendar": calendar}


def policy_payload(form: Any) -> dict[str, Any]:
    targets = {}
    for p in PRIORITIES:
        targets[p] = {
            "first_response_minutes": optional_int(field(form, f"{p}_first_response_minutes")) or 0,
            "resolution_minutes": optional_int(field(form, f"{p}_resolution_minutes")) or 0,
        }
    payload: dict[str, Any] = {
        "name": field(form, "name"),
        "calendar_id": optional_int(field(form, "calendar_id")) or 0,
        "targets": targets,
        "is_default": bool(field(form, "is_default")),
    }
    warning = optional_int(field(form, "warning_percent"))
    if warning is not None:
        payload["warnings"] = [{"percent_of_target": warning}]
    return payload


def contract_payload(form: Any) -> dict[str, Any]:
    """The contract form as ``ContractCreate``'s fields: the start is the day typed, which the SLA service
    turns into midnight in the zone of the policy's calendar."""
    starts_on = field(form, "valid_from")
    payload: dict[str, Any] = {
        "name": field(form, "name"),
        "policy_id": optional_int(field(form, "policy_id")) or 0,
        "organisation_id": optional_int(field(form, "organisation_id")),
        "tier": optional_int(field(form, "tier")) or 0,
        "coverage": _split(field(form, "coverage")),
    }
    if starts_on:  # left out, the service names it as required
        payload["starts_on"] = starts_on
    return payload


def policy_field(path: str) -> str:
    """targets.P1.first_response_minutes -> P1_first_response_minutes; warnings[0]... -> warning_percent."""
    if path.startswith(("targets.", "targets_")):
        return path[len("targets.") :].replace(".", "_")
    if path.startswith("warnings"):
        return "warning_percent"
    return path


def explain(kind: str) -> Explain:
    """The SLA admin service's refusals on the ``kind`` form's fields."""

    def explain_error(exc: DomainError) -> dict[str, str] | None:
        if worded := explain_by_code(exc):
            return {field_name(name, CONTRACT_FIELDS): text for name, text in worded.items()}
        if kind == "policy":
            return {policy_field(name): text for name, text in errors_of(exc).items()}
        if kind == "calendar":
            return errors_of(exc, CALENDAR_FIELDS)
        if kind == "contract":
            return errors_of(exc, CONTRACT_FIELDS)
        return None

    return explain_error


class SlaAdminPages(Controller):
    path = PAGE
    include_in_schema = False

    @get("/")
    async def sla(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        require_staff(principal, ADMIN)
        return await _sla_page(request, principal, runtime)

    @post("/{kind:str}")
    async def create(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, kind: FromPath[str]
    ) -> Template | Redirect:
        """Create a calendar, a policy or a contract (``kind``) from its form."""
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        if kind not in KINDS:
            return Redirect(PAGE, status_code=303)
        values = {k: str(v) for k, v in form.items() if k != "_csrf"}
        service = _sla_admin(runtime)

        async def create_it() -> Template | Redirect:
            if kind == "calendar":
                await service.create_calendar(
                    convert(calendar_payload(form), CalendarCreate, CALENDAR_FIELDS)
                )
            elif kind == "policy":
                await service.create_policy(_policy(form))
            else:
                await service.create_contract(
                    convert(contract_payload(form), ContractCreate, CONTRACT_FIELDS)
                )
            return Redirect(f"{PAGE}?saved={kind}", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _sla_page(request, principal, runtime, FormState(kind, values, errors))

        return await submit_form(create_it, show, explain=explain(kind))


def _policy(form: Any) -> Any:
    """The policy form as ``PolicyCreate``; a bad target is named on its own input (priority and target)."""
    payload = policy_payload(form)
    for priority, targets in payload["targets"].items():
        # Per priority first: a JSON path into a dict does not name its key.
        convert(targets, SlaTargets, {k: f"{priority}_{k}" for k in targets})
    try:
        return convert(payload, PolicyCreate)
    except FormErrors as exc:
        raise FormErrors({policy_field(k): v for k, v in exc.errors.items()}) from exc


async def _sla_page(
    request: Req, principal: Principal, runtime: Runtime, state: FormState | None = None
) -> Template:
    service = _sla_admin(runtime)
    return form_page(
        request,
        principal,
        "admin/sla.html",
        state,
        calendars=await service.list_calendars(),
        policies=await service.list_policies(),
        contracts=await service.list_contracts(),
        organisations=await CustomerQueries(runtime).list_organisations(limit=500, offset=0),
        weekdays=WEEKDAYS,
        priorities=PRIORITIES,
    )
