"""Administration pages: users and roles, groups (queues) and their members, business calendars, SLA policies
and contracts. Forms are converted into the API's schemas, so the rules are the API's; a rejected field is
shown next to its input."""

from __future__ import annotations

import importlib
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from helpdesk.accounts.schemas import GroupCreate, GroupUpdate, UserCreate, UserUpdate
from helpdesk.accounts.service import AccountService
from helpdesk.accounts.staff import StaffService
from helpdesk.core.errors import DomainError
from helpdesk.core.principal import PrincipalDep, Role
from helpdesk.customers.queries import CustomerQueries
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.web.forms import FormErrors, convert, errors_of
from helpdesk.web.render import Req, checked_form, field, optional_int, page, require_staff
from sla.schemas import CalendarCreate, ContractCreate, PolicyCreate
from sla.targets import SlaTargets

ADMIN = (Role.ADMIN,)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITIES = ("P1", "P2", "P3", "P4")
# Schema paths whose form field has another name.
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
}


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
    valid_from = field(form, "valid_from")
    return {
        "name": field(form, "name"),
        "policy_id": optional_int(field(form, "policy_id")) or 0,
        "organisation_id": optional_int(field(form, "organisation_id")),
        "valid_from": f"{valid_from}T00:00:00Z" if len(valid_from) == 10 else valid_from,
        "tier": optional_int(field(form, "tier")) or 0,
        "coverage": _split(field(form, "coverage")),
    }


def _policy_field(path: str) -> str:
    # targets.P1.first_response_minutes -> P1_first_response_minutes; warnings[0]... -> warning_percent
    if path.startswith(("targets.", "targets_")):
        return path[len("targets.") :].replace(".", "_")
    if path.startswith("warnings"):
        return "warning_percent"
    return path


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/")
    async def people(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        require_staff(principal, ADMIN)
        return await _people_page(request, principal, runtime)

    @post("/users")
    async def create_user(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep
    ) -> Template | Redirect:
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        values = {k: field(form, k) for k in ("email", "name", "role", "password")}
        try:
            data = convert({**values, "password": values["password"] or None}, UserCreate)
            await AccountService(runtime).create_user(
                email=data.email, name=data.name, role=data.role, password=data.password
            )
        except FormErrors as exc:
            return await _people_page(request, principal, runtime, "user", values, exc.errors)
        except DomainError as exc:
            return await _people_page(request, principal, runtime, "user", values, errors_of(exc))
        return Redirect("/admin?saved=user", status_code=303)

    @post("/users/{user_id:int}")
    async def update_user(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, user_id: FromPath[int]
    ) -> Template | Redirect:
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        payload: dict[str, Any] = {"role": field(form, "role"), "is_active": bool(field(form, "is_active"))}
        try:
            await StaffService(runtime).update_user(user_id, convert(payload, UserUpdate))
        except (FormErrors, DomainError) as exc:
            errors = exc.errors if isinstance(exc, FormErrors) else errors_of(exc)
            return await _people_page(request, principal, runtime, f"user-{user_id}", {}, errors)
        return Redirect("/admin?saved=user", status_code=303)

    @post("/groups")
    async def create_group(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep
    ) -> Template | Redirect:
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        values = {"name": field(form, "name"), "email": field(form, "email")}
        members = [int(m) for m in form.getall("member_ids", []) if str(m).isdigit()]
        try:
            data = convert({**values, "email": values["email"] or None, "member_ids": members}, GroupCreate)
            await StaffService(runtime).create_group(data)
        except (FormErrors, DomainError) as exc:
            errors = exc.errors if isinstance(exc, FormErrors) else errors_of(exc)
            return await _people_page(request, principal, runtime, "group", values, errors)
        return Redirect("/admin?saved=group", status_code=303)

    @post("/groups/{group_id:int}")
    async def update_group(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, group_id: FromPath[int]
    ) -> Template | Redirect:
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        members = [int(m) for m in form.getall("member_ids", []) if str(m).isdigit()]
        try:
            await StaffService(runtime).update_group(group_id, convert({"member_ids": members}, GroupUpdate))
        except (FormErrors, DomainError) as exc:
            errors = exc.errors if isinstance(exc, FormErrors) else errors_of(exc)
            return await _people_page(request, principal, runtime, f"group-{group_id}", {}, errors)
        return Redirect("/admin?saved=group", status_code=303)

    @get("/sla")
    async def sla(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        require_staff(principal, ADMIN)
        return await _sla_page(request, principal, runtime)

    @post("/sla/{kind:str}")
    async def create_sla(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, kind: FromPath[str]
    ) -> Template | Redirect:
        """Create a calendar, a policy or a contract (``kind``) from its form."""
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        values = {k: str(v) for k, v in form.items() if k != "_csrf"}
        service = _sla_admin(runtime)
        try:
            if kind == "calendar":
                await service.create_calendar(
                    convert(calendar_payload(form), CalendarCreate, CALENDAR_FIELDS)
                )
            elif kind == "policy":
                payload = policy_payload(form)
                for priority, targets in payload["targets"].items():
                    # Per priority first: a JSON path into a dict does not name its key.
                    convert(targets, SlaTargets, {k: f"{priority}_{k}" for k in targets})
                await service.create_policy(convert(payload, PolicyCreate))
            elif kind == "contract":
                await service.create_contract(convert(contract_payload(form), ContractCreate))
            else:
                return Redirect("/admin/sla", status_code=303)
        except FormErrors as exc:
            errors = {_policy_field(k) if kind == "policy" else k: v for k, v in exc.errors.items()}
            return await _sla_page(request, principal, runtime, kind, values, errors)
        except DomainError as exc:
            errors = errors_of(exc, CALENDAR_FIELDS if kind == "calendar" else None)
            if kind == "calendar":
                errors = {
                    (k.removeprefix("calendar_") if k.startswith("calendar_") else k): v
                    for k, v in errors.items()
                }
            if kind == "policy":
                errors = {_policy_field(k): v for k, v in errors.items()}
            return await _sla_page(request, principal, runtime, kind, values, errors)
        return Redirect(f"/admin/sla?saved={kind}", status_code=303)


async def _people_page(
    request: Req,
    principal: Any,
    runtime: Runtime,
    form_name: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    staff = StaffService(runtime)
    return page(
        request,
        principal,
        "admin/people.html",
        status_code=422 if errors else 200,
        users=await staff.list_users(),
        groups=await staff.list_groups(),
        roles=list(Role),
        form_name=form_name,
        values=values or {},
        errors=errors or {},
        saved=request.query_params.get("saved"),
    )


async def _sla_page(
    request: Req,
    principal: Any,
    runtime: Runtime,
    form_name: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    service = _sla_admin(runtime)
    return page(
        request,
        principal,
        "admin/sla.html",
        status_code=422 if errors else 200,
        calendars=await service.list_calendars(),
        policies=await service.list_policies(),
        contracts=await service.list_contracts(),
        organisations=await CustomerQueries(runtime).list_organisations(limit=500, offset=0),
        weekdays=WEEKDAYS,
        priorities=PRIORITIES,
        form_name=form_name,
        values=values or {},
        errors=errors or {},
        saved=request.query_params.get("saved"),
    )
