"""Resolve the request's principal from an API token or a session cookie, and enforce CSRF for cookies."""

from __future__ import annotations

from typing import Any

from litestar import Request

from helpdesk.accounts.security import tokens_equal
from helpdesk.accounts.service import AccountService
from helpdesk.core.errors import NotAuthenticated, PermissionDenied
from helpdesk.core.principal import ANONYMOUS, Principal, PrincipalDep, require_authenticated, require_role
from helpdesk.runtime import RuntimeDep

SESSION_COOKIE = "hd_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def provide_principal(request: Request[Any, Any, Any], runtime: RuntimeDep) -> Principal:
    service = AccountService(runtime)
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Authorization must be 'Bearer <API token>'")
        principal = await service.principal_from_api_token(token.strip())
        if principal is None:
            raise NotAuthenticated("invalid or revoked API token")
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return ANONYMOUS
    principal = await service.principal_from_session(cookie) or ANONYMOUS
    if (
        principal.is_authenticated
        and request.method not in SAFE_METHODS
        and request.url.path.startswith("/api/")
    ):
        sent = request.headers.get(CSRF_HEADER, "")
        if not (sent and principal.csrf_token and tokens_equal(sent, principal.csrf_token)):
            raise PermissionDenied(
                "missing or wrong X-CSRF-Token header (send the csrf_token from sign-in with cookie sessions)",
                code="csrf_failed",
            )
    return principal


def client_key(request: Request[Any, Any, Any]) -> str:
    """The address rate limits count against: the hop our load balancer appended to X-Forwarded-For (the
    entries before it come from the client and could be forged)."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[-1].strip()
    return request.client.host if request.client else "unknown"


__all__ = ["PrincipalDep", "client_key", "provide_principal", "require_authenticated", "require_role"]
