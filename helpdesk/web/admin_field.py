"""Administration of technicians (skills and levels, home base, working hours, lunch, daily limit, the secret
calendar URL) and of the e-mail channel's IMAP mailboxes. Forms are converted into the services' schemas, so
the rules are theirs; a refused form shows the page again with each message next to its field, in the
reader's language (``submit_form``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from dispatch.resources import SkillService, TechnicianService
from dispatch.schemas import TechnicianCreate, TechnicianUpdate
from helpdesk.accounts.staff import StaffService
from helpdesk.channels.email.mailboxes import MailboxAdmin, MailboxCreate
from helpdesk.core.errors import DomainError
from helpdesk.core.principal import Principal, PrincipalDep, Role
from helpdesk.field.tickets import HelpdeskTickets
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.web.admin import ADMIN, WEEKDAYS
from helpdesk.web.forms import convert, submit_form
from helpdesk.web.render import FormState, Req, checked_form, field, form_page, optional_int, require_staff
from helpdesk.web.work_orders import form_errors, parse_skills

TECH_FIELDS = (
    "user_id",
    "skills",
    "home_address",
    "home_lat",
    "home_lon",
    "timezone",
    *(f"week_{d}" for d in WEEKDAYS),
    "lunch_window",
    "lunch_minutes",
    "daily_limit_minutes",
)
TECH_ALIASES = {
    **{f"hours.week.{d}": f"week_{d}" for d in WEEKDAYS},
    "hours.timezone": "timezone",
    "hours": "week_mon",
}
MAILBOX_FIELDS = ("name", "host", "port", "security", "username", "folder", "processed_folder")


def explain_technician(exc: DomainError) -> dict[str, str] | None:
    """The technician service's refusals on the technician form's fields (an unknown skill on the skills)."""
    return form_errors(exc, TECH_ALIASES)


def _number(text: str) -> float | str:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return text


def technician_payload(values: dict[str, str], *, create: bool) -> dict[str, Any]:
    week = {d: [p.strip() for p in values[f"week_{d}"].split(",") if p.strip()] for d in WEEKDAYS}
    payload: dict[str, Any] = {
        "skills": parse_skills(values["skills"]),
        "home_address": values["home_address"],
        "home_lat": _number(values["home_lat"]),
        "home_lon": _number(values["home_lon"]),
        "hours": {"timezone": values["timezone"] or "UTC", "week": week},
        "lunch_window": values["lunch_window"] or None,
        "lunch_minutes": optional_int(values["lunch_minutes"]) or 30,
        "daily_limit_minutes": optional_int(values["daily_limit_minutes"]),
    }
    if create:
        payload["user_id"] = optional_int(values["user_id"]) or 0
    return payload


def technician_values(t: Any) -> dict[str, str]:
    week = {f"week_{d}": ", ".join(getattr(t.hours.week, d, ()) or ()) for d in WEEKDAYS}
    return {
        "skills": ", ".join(f"{k}:{v}" for k, v in t.skills.items()),
        "home_address": t.home_address,
        "home_lat": str(t.home_lat),
        "home_lon": str(t.home_lon),
        "timezone": t.hours.timezone,
        "lunch_window": t.lunch_window or "",
        "lunch_minutes": str(t.lunch_minutes),
        "daily_limit_minutes": str(t.daily_limit_minutes or ""),
        **week,
    }


class FieldAdminPages(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/technicians")
    async def technicians(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        require_staff(principal, ADMIN)
        return await _tech_page(request, principal, runtime)

    @post("/technicians")
    async def create_technician(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep
    ) -> Template | Redirect:
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        values = {name: field(form, name) for name in TECH_FIELDS}
        service = TechnicianService(runtime, HelpdeskTickets(runtime))

        async def create() -> Template | Redirect:
            data = convert(technician_payload(values, create=True), TechnicianCreate, TECH_ALIASES)
            created = await service.create_technician(data)
            # The new calendar feed URL is shown on this answer only: the page, not a redirect.
            return await _tech_page(request, principal, runtime, feed=(created.name, created.ical_url))

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _tech_page(request, principal, runtime, FormState("tech", values, errors))

        return await submit_form(create, show, explain=explain_technician)

    @post("/technicians/{technician_id:int}")
    async def update_technician(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, technician_id: FromPath[int]
    ) -> Template | Redirect:
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        values = {name: field(form, name) for name in TECH_FIELDS}
        payload = {**technician_payload(values, create=False), "is_active": bool(field(form, "is_active"))}
        service = TechnicianService(runtime, HelpdeskTickets(runtime))

        async def update() -> Template | Redirect:
            await service.update_technician(technician_id, convert(payload, TechnicianUpdate, TECH_ALIASES))
            return Redirect("/admin/technicians?saved=1", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _tech_page(
                request, principal, runtime, FormState(f"t{technician_id}", values, errors)
            )

        return await submit_form(update, show, explain=explain_technician)

    @post("/technicians/{technician_id:int}/ical-token")
    async def rotate_token(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, technician_id: FromPath[int]
    ) -> Template:
        """A new secret calendar URL, shown on this answer only; the old one stops working."""
        require_staff(principal, ADMIN)
        await checked_form(request, principal)
        tech = await TechnicianService(runtime, HelpdeskTickets(runtime)).rotate_ical_token(technician_id)
        return await _tech_page(request, principal, runtime, feed=(tech.name, tech.ical_url))

    @get("/mailboxes")
    async def mailboxes(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        require_staff(principal, ADMIN)
        return await _mailbox_page(request, principal, runtime)

    @post("/mailboxes")
    async def create_mailbox(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep
    ) -> Template | Redirect:
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        values = {name: field(form, name) for name in MAILBOX_FIELDS}
        payload: dict[str, Any] = {
            **{k: v for k, v in values.items() if v},
            "password": str(form.get("password", "") or ""),
            "port": optional_int(values["port"]) or values["port"] or 993,
        }

        async def create() -> Template | Redirect:
            await MailboxAdmin(runtime).create_mailbox(convert(payload, MailboxCreate))
            return Redirect("/admin/mailboxes?saved=1", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _mailbox_page(request, principal, runtime, FormState("", values, errors))

        return await submit_form(create, show)

    @post("/mailboxes/{mailbox_id:int}/enabled")
    async def toggle_mailbox(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, mailbox_id: FromPath[int]
    ) -> Redirect:
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        await MailboxAdmin(runtime).set_enabled(mailbox_id, field(form, "enabled") == "yes")
        return Redirect("/admin/mailboxes?saved=1", status_code=303)


async def _tech_page(
    request: Req,
    principal: Principal,
    runtime: Runtime,
    state: FormState | None = None,
    *,
    feed: tuple[str, str | None] | None = None,
) -> Template:
    technicians = await TechnicianService(runtime, HelpdeskTickets(runtime)).list_technicians()
    taken = {t.user_id for t in technicians}
    users = [
        u for u in await StaffService(runtime).list_users() if u.role == Role.TECHNICIAN and u.id not in taken
    ]
    return form_page(
        request,
        principal,
        "admin/technicians.html",
        state,
        technicians=[(t, technician_values(t)) for t in technicians],
        candidates=users,
        skills=await SkillService(runtime).list_skills(),
        weekdays=WEEKDAYS,
        feed=feed,
    )


async def _mailbox_page(
    request: Req, principal: Principal, runtime: Runtime, state: FormState | None = None
) -> Template:
    return form_page(
        request,
        principal,
        "admin/mailboxes.html",
        state or FormState(values={"port": "993", "folder": "INBOX", "security": "tls"}),
        mailboxes=await MailboxAdmin(runtime).list_mailboxes(),
    )
