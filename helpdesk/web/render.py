"""What every server-rendered page needs: the CSRF form token, the language, and access checks that send a
person to the sign-in page instead of answering with JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from helpdesk.core.errors import DomainError, NotAuthenticated, PermissionDenied
from helpdesk.core.principal import ANONYMOUS, Principal, Role
from helpdesk.web.csrf import FORM_FIELD, check_form_token, form_token
from helpdesk.web.i18n import LANG_COOKIE, negotiate, translations

Req = Request[Any, Any, Any]
DESK_ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT)
MANAGER_ROLES = (Role.ADMIN, Role.MANAGER)


def language_of(request: Req, principal: Principal) -> str:
    default = "en"
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is not None:
        default = runtime.settings.default_language
    return negotiate(
        setting=request.cookies.get(LANG_COOKIE) or principal.language,
        cookie=None,
        accept_language=request.headers.get("accept-language"),
        default=default,
    )


def gettext_for(request: Req, principal: Principal) -> Any:
    """``_`` for messages composed in a controller (flash notices, validation messages)."""
    return translations(language_of(request, principal)).gettext


def page(
    request: Req,
    principal: Principal,
    template: str,
    *,
    status_code: int = 200,
    cookies: Sequence[Cookie] = (),
    **context: Any,
) -> Template:
    token, cookie = form_token(request, principal)
    lang = language_of(request, principal)
    all_cookies = [*cookies, *([cookie] if cookie else [])]
    return Template(
        template_name=template,
        context={
            "csrf": token,
            "principal": principal,
            "lang": lang,
            "translations": translations(lang),
            "path": request.url.path,
            "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **context,
        },
        cookies=all_cookies,
        status_code=status_code,
    )


def require_staff(principal: Principal, roles: Sequence[Role] = DESK_ROLES) -> None:
    """Raise ``NotAuthenticated`` (the handler redirects to /login) or ``PermissionDenied``."""
    if not principal.is_staff:
        raise NotAuthenticated("sign in to continue")
    if principal.role not in roles:
        raise PermissionDenied("your role cannot open this page")


async def checked_form(request: Req, principal: Principal) -> Any:
    """The posted form after its CSRF token was checked (``PermissionDenied`` otherwise)."""
    form = await request.form()
    check_form_token(request, principal, str(form.get(FORM_FIELD, "")) or None)
    return form


def field(form: Any, name: str) -> str:
    return str(form.get(name, "") or "").strip()


def optional_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def web_error_handler(request: Req, exc: DomainError) -> Response[Any]:
    """Errors on pages are pages: sign-in for nobody, a short explanation otherwise."""
    if isinstance(exc, NotAuthenticated) and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?next={quote(target)}")
    return page(
        request, ANONYMOUS, "error.html", status_code=exc.status_code, error=exc.detail, code=exc.code
    )
