"""Administration of people: users and roles, groups (queues) and their members. Forms are converted into the
API's schemas, so the rules are the API's; a refused form shows the page again with each message next to its
field, in the reader's language (``submit_form``). The SLA forms are in ``admin_sla``, technicians and
mailboxes in ``admin_field``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from helpdesk.accounts.schemas import GroupCreate, GroupUpdate, UserCreate, UserUpdate
from helpdesk.accounts.service import AccountService
from helpdesk.accounts.staff import StaffService
from helpdesk.core.principal import Principal, PrincipalDep, Role
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.web.forms import convert, explained_by, submit_form
from helpdesk.web.i18n import N_
from helpdesk.web.render import FormState, Req, checked_form, field, form_page, require_staff

ADMIN = (Role.ADMIN,)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def member_ids(form: Any) -> list[int]:
    return [int(m) for m in form.getall("member_ids", []) if str(m).isdigit()]


# The group service names the ids it does not know; the form only offers people who exist.
explain_people = explained_by({("invalid_input", "member_ids"): N_("Choose people from the list.")})


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

        async def create() -> Template | Redirect:
            data = convert({**values, "password": values["password"] or None}, UserCreate)
            await AccountService(runtime).create_user(
                email=data.email, name=data.name, role=data.role, password=data.password
            )
            return Redirect("/admin?saved=user", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _people_page(request, principal, runtime, FormState("user", values, errors))

        return await submit_form(create, show, explain=explain_people)

    @post("/users/{user_id:int}")
    async def update_user(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, user_id: FromPath[int]
    ) -> Template | Redirect:
        """Change a user's role and whether they may sign in (the row's form)."""
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        values = {"role": field(form, "role"), "is_active": "1" if field(form, "is_active") else ""}

        async def update() -> Template | Redirect:
            payload = {"role": values["role"], "is_active": bool(values["is_active"])}
            await StaffService(runtime).update_user(user_id, convert(payload, UserUpdate))
            return Redirect("/admin?saved=user", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _people_page(
                request, principal, runtime, FormState(f"user-{user_id}", values, errors)
            )

        return await submit_form(update, show, explain=explain_people)

    @post("/groups")
    async def create_group(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep
    ) -> Template | Redirect:
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        values = {"name": field(form, "name"), "email": field(form, "email")}

        async def create() -> Template | Redirect:
            payload = {**values, "email": values["email"] or None, "member_ids": member_ids(form)}
            await StaffService(runtime).create_group(convert(payload, GroupCreate))
            return Redirect("/admin?saved=group", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _people_page(request, principal, runtime, FormState("group", values, errors))

        return await submit_form(create, show, explain=explain_people)

    @post("/groups/{group_id:int}")
    async def update_group(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, group_id: FromPath[int]
    ) -> Template | Redirect:
        """Replace a group's members (the checkboxes of its form)."""
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)

        async def update() -> Template | Redirect:
            data = convert({"member_ids": member_ids(form)}, GroupUpdate)
            await StaffService(runtime).update_group(group_id, data)
            return Redirect("/admin?saved=group", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _people_page(request, principal, runtime, FormState(f"group-{group_id}", {}, errors))

        return await submit_form(update, show, explain=explain_people)


async def _people_page(
    request: Req, principal: Principal, runtime: Runtime, state: FormState | None = None
) -> Template:
    staff = StaffService(runtime)
    return form_page(
        request,
        principal,
        "admin/people.html",
        state,
        users=await staff.list_users(),
        groups=await staff.list_groups(),
        roles=list(Role),
    )
