"""What every server-rendered page needs: the CSRF form token, the language and time zone, error messages in
that language, and access checks that send a person to the sign-in page instead of answering with JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from helpdesk.core.errors import DomainError, NotAuthenticated, PermissionDenied
from helpdesk.core.principal import ANONYMOUS, Principal, Role
from helpdesk.core.zones import UTC_NAME, zone_named
from helpdesk.web.csrf import FORM_FIELD, check_form_token, form_token
from helpdesk.web.error_text import describe, localise_errors
from helpdesk.web.i18n import LANG_COOKIE, negotiate, translations

Req = Request[Any, Any, Any]
DESK_ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT)
MANAGER_ROLES = (Role.ADMIN, Role.MANAGER)


def language_of(request: Req, principal: Principal) -> str:
    """The signed-in person's saved language wins; the switch's cookie and the browser speak for nobody."""
    default = "en"
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is not None:
        default = runtime.settings.default_language
    return negotiate(
        setting=principal.language if principal.is_authenticated else None,
        cookie=request.cookies.get(LANG_COOKIE),
        accept_language=request.headers.get("accept-language"),
        default=default,
    )


def zone_of(request: Req, principal: Principal) -> ZoneInfo:
    """The zone the person reads times in: their setting, else the help desk's default zone, else UTC."""
    runtime = getattr(request.app.state, "runtime", None)
    default = runtime.settings.default_time_zone if runtime is not None else UTC_NAME
    return zone_named(principal.time_zone, default)


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
    """The page in the reader's language and zone (``tz``; a page may pass its own, e.g. a technician's).

    Messages passed as ``error`` or ``*errors`` (the services' English details, the form checks' words) are
    shown in the reader's language (``helpdesk.web.error_text``)."""
    token, cookie = form_token(request, principal)
    lang = language_of(request, principal)
    catalog = translations(lang)
    all_cookies = [*cookies, *([cookie] if cookie else [])]
    messages = {
        key: localise_errors(value, catalog.gettext)
        for key, value in context.items()
        if key == "error" or key.endswith("errors")
    }
    return Template(
        template_name=template,
        context={
            "csrf": token,
            "principal": principal,
            "lang": lang,
            "translations": catalog,
            "tz": zone_of(request, principal),
            "path": request.url.path,
            "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **context,
            **messages,
        },
        cookies=all_cookies,
        status_code=status_code,
    )


class FormState(NamedTuple):
    """A page's form as shown: its ``name`` on the page, the ``values`` in its inputs and, after a refusal,
    the ``errors`` by field."""

    name: str = ""
    values: Mapping[str, str] = {}
    errors: Mapping[str, str] = {}


def form_page(
    request: Req, principal: Principal, template: str, state: FormState | None, **context: Any
) -> Template:
    """A page of forms (:func:`page`): 422 with the refused form's ``state`` (its messages by field, its values
    as sent), else 200; ``saved`` is the query's (the redirect after a saved form) unless the page passes its
    own."""
    form = state or FormState()
    context.setdefault("saved", request.query_params.get("saved"))
    return page(
        request,
        principal,
        template,
        status_code=422 if form.errors else 200,
        form_name=form.name,
        values=form.values,
        errors=form.errors,
        **context,
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
    lang = language_of(request, ANONYMOUS)
    text = describe(exc, translations(lang).gettext, lang)
    return page(request, ANONYMOUS, "error.html", status_code=exc.status_code, message=text, code=exc.code)
