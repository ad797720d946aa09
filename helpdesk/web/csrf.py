"""Double-submit CSRF tokens for server-rendered forms (they work without JavaScript)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from helpdesk.accounts.principal import Principal
from helpdesk.accounts.security import new_token, tokens_equal
from helpdesk.core.errors import PermissionDenied

FORM_COOKIE = "hd_csrf"
FORM_FIELD = "_csrf"


def form_token(request: Request[Any, Any, Any], principal: Principal) -> tuple[str, Cookie | None]:
    """The token to put in a form, and the cookie to set when the browser has none yet."""
    if principal.csrf_token:
        return principal.csrf_token, None
    existing = request.cookies.get(FORM_COOKIE)
    if existing:
        return existing, None
    token = new_token()
    return token, Cookie(key=FORM_COOKIE, value=token, httponly=True, samesite="strict", path="/")


def check_form_token(request: Request[Any, Any, Any], principal: Principal, sent: str | None) -> None:
    expected = principal.csrf_token or request.cookies.get(FORM_COOKIE)
    if not (sent and expected and tokens_equal(sent, expected)):
        raise PermissionDenied("the form has expired; reload the page and send it again", code="csrf_failed")
