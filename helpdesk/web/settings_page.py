"""A person's own settings, for staff and for signed-in customers: the language of the pages and the time zone
they show times in. Saved on the person (the staff user or the customer), so it follows them to any browser;
the language switch in the page header saves the language the same way."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from helpdesk.accounts.dependencies import PrincipalDep
from helpdesk.accounts.schemas import UserUpdate
from helpdesk.accounts.staff import StaffService
from helpdesk.core.errors import DomainError
from helpdesk.core.principal import Principal, require_authenticated
from helpdesk.core.zones import time_zone_names
from helpdesk.customers.schemas import CustomerUpdate
from helpdesk.customers.service import CustomerService
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.web.auth import language_cookie, safe_next
from helpdesk.web.forms import FormErrors, convert, errors_of
from helpdesk.web.i18n import LOCALES
from helpdesk.web.render import Req, checked_form, field, page


async def save_settings(runtime: Runtime, principal: Principal, changes: dict[str, Any]) -> None:
    """Write ``changes`` (``language``, ``time_zone``) on the signed-in person through their domain's service.
    Raises ``FormErrors`` naming the field for input the schema refuses, ``InvalidInput`` for an unknown zone."""
    if principal.user_id is not None:
        await StaffService(runtime).update_user(principal.user_id, convert(changes, UserUpdate))
    elif principal.customer_id is not None:
        await CustomerService(runtime).update_customer(
            principal.customer_id, convert(changes, CustomerUpdate)
        )


class SettingsPages(Controller):
    path = "/settings"
    include_in_schema = False

    @get("/")
    async def settings_form(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, saved: FromQuery[bool] = False
    ) -> Template:
        require_authenticated(principal)
        values = {"language": principal.language or "", "time_zone": principal.time_zone or ""}
        return _page(request, principal, runtime, values, {}, saved=saved)

    @post("/")
    async def save(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template | Redirect:
        """Save the language (empty: follow the browser) and the time zone (empty: the help desk's)."""
        require_authenticated(principal)
        form = await checked_form(request, principal)
        values = {"language": field(form, "language"), "time_zone": field(form, "time_zone")}
        changes = {name: value or None for name, value in values.items()}
        try:
            await save_settings(runtime, principal, changes)
        except FormErrors as exc:
            return _page(request, principal, runtime, values, exc.errors, status_code=422)
        except DomainError as exc:
            return _page(request, principal, runtime, values, errors_of(exc), status_code=exc.status_code)
        return Redirect(
            "/settings?saved=true", cookies=[language_cookie(changes["language"])], status_code=303
        )

    @post("/language")
    async def switch_language(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Redirect:
        """The header's language switch for a signed-in person: the choice is saved, not only remembered by
        this browser, since the saved language wins over the cookie."""
        require_authenticated(principal)
        form = await checked_form(request, principal)
        chosen = field(form, "language")
        language = chosen if chosen in LOCALES else None
        await save_settings(runtime, principal, {"language": language})
        return Redirect(
            safe_next(field(form, "next")) or "/settings",
            cookies=[language_cookie(language)],
            status_code=303,
        )


def _page(
    request: Req,
    principal: Principal,
    runtime: Runtime,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    saved: bool = False,
    status_code: int = 200,
) -> Template:
    return page(
        request,
        principal,
        "settings.html",
        status_code=status_code,
        values=values,
        errors=errors,
        saved=saved,
        zones=time_zone_names(),
        default_zone=runtime.settings.default_time_zone,
        now=runtime.clock.now(),
    )
