"""Staff sign-in and sign-out pages on the session mechanism of the API (cookie ``hd_session``), and the
language switch of people who are not signed in (``hd_lang``; a signed-in person's is saved on them)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from helpdesk.accounts.api import session_cookie
from helpdesk.accounts.dependencies import SESSION_COOKIE, PrincipalDep, client_key
from helpdesk.accounts.service import AccountService, IssuedSession
from helpdesk.core.errors import NotAuthenticated, RateLimited
from helpdesk.core.principal import Principal, Role
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.web.i18n import LANG_COOKIE, LOCALES
from helpdesk.web.render import Req, checked_form, field, gettext_for, page

HOME_BY_ROLE = {
    Role.ADMIN: "/agent",
    Role.MANAGER: "/manager",
    Role.AGENT: "/agent",
    Role.TECHNICIAN: "/technician",
}


YEAR_SECONDS = 365 * 86400


def language_cookie(language: str | None) -> Cookie:
    """The switch's cookie; kept equal to a person's saved language, so that pages rendered without knowing
    who asks (error pages) speak it too. ``None`` removes it."""
    if language is None:
        return Cookie(key=LANG_COOKIE, value="", max_age=0, path="/", samesite="lax")
    return Cookie(key=LANG_COOKIE, value=language, max_age=YEAR_SECONDS, path="/", samesite="lax")


def signed_in_cookies(issued: IssuedSession, runtime: Runtime) -> list[Cookie]:
    """The cookies of a new sign-in, staff's or a customer's: the session, and the switch's cookie set to the
    person's saved language when they have one (left as it is otherwise), so the language is the same on
    pages that know who asks and on those that do not."""
    saved = issued.principal.language
    return [session_cookie(issued, runtime), *([language_cookie(saved)] if saved else [])]


def safe_next(target: str | None) -> str | None:
    """Only a path on this site (``//host`` and ``/\\host`` would leave it)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


def home_of(principal: Principal) -> str:
    if principal.role is None:
        return "/portal/requests" if principal.is_customer else "/"
    return HOME_BY_ROLE.get(principal.role, "/agent")


class AuthPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/login")
    async def login_form(
        self,
        request: Req,
        principal: PrincipalDep,
        next_: Annotated[str | None, QueryParameter(name="next", max_length=500)] = None,
    ) -> Template | Redirect:
        if principal.is_staff:
            return Redirect(safe_next(next_) or home_of(principal))
        return page(request, principal, "auth/login.html", next=safe_next(next_) or "", error=None, email="")

    @post("/login")
    async def login(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template | Redirect:
        _ = gettext_for(request, principal)
        # The login form is posted before a session exists: its CSRF token is the hd_csrf cookie's.
        form = await checked_form(request, principal)
        email, target = field(form, "email"), safe_next(field(form, "next"))
        try:
            issued = await AccountService(runtime).login(
                email, str(form.get("password", "")), client=client_key(request)
            )
        except NotAuthenticated:
            error = _("Wrong e-mail or password.")
        except RateLimited:
            error = _("Too many attempts. Wait a minute and try again.")
        else:
            return Redirect(
                target or home_of(issued.principal),
                cookies=signed_in_cookies(issued, runtime),
                status_code=303,
            )
        return page(
            request,
            principal,
            "auth/login.html",
            status_code=400,
            next=target or "",
            error=error,
            email=email,
        )

    @post("/logout")
    async def logout(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Redirect:
        await checked_form(request, principal)
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await AccountService(runtime).logout(token)
        gone = Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/", httponly=True, samesite="lax")
        return Redirect("/login" if principal.is_staff else "/", cookies=[gone], status_code=303)

    @get("/language/{code:str}")
    async def switch_language(
        self,
        code: FromPath[str],
        next_: Annotated[str | None, QueryParameter(name="next", max_length=500)] = None,
    ) -> Redirect:
        return Redirect(safe_next(next_) or "/", cookies=[language_cookie(code if code in LOCALES else "en")])
