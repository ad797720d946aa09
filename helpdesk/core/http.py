"""Error mapping shared by every controller: domain errors and validation failures become ``{code, detail, field}``."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from helpdesk.core.errors import DomainError
from helpdesk.core.transient import is_transient

log = logging.getLogger(__name__)


class ErrorBody(msgspec.Struct, omit_defaults=True):
    code: str
    detail: str
    field: str | None = None


def _json(body: ErrorBody, status: int, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=msgspec.json.encode(body), status_code=status, media_type=MediaType.JSON, headers=headers
    )


def domain_error_handler(_: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    headers = {"Retry-After": "60"} if exc.status_code == 429 else None
    return _json(ErrorBody(code=exc.code, detail=exc.detail, field=exc.field), exc.status_code, headers)


_AT_PATH = re.compile(r"at `\$\.?([^`]*)`")
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]*)`")


def validation_error_handler(_: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    """Name the first offending field and say what is wrong with it, in words a client developer can act on."""
    field: str | None = None
    detail = exc.detail
    extra = exc.extra if isinstance(exc.extra, list) else []
    if extra:
        first = extra[0] if isinstance(extra[0], dict) else {}
        message = str(first.get("message", detail))
        key = first.get("key")
        match = _AT_PATH.search(message)
        unknown = _UNKNOWN_FIELD.search(message)
        if unknown:
            # The path points at the object holding the unknown key; the key itself is what to remove.
            parent = match.group(1) if match else ""
            field = f"{parent}.{unknown.group(1)}" if parent else unknown.group(1)
            message = _AT_PATH.sub("", message).rstrip(" -")
        elif match and match.group(1):
            field = match.group(1)
            message = _AT_PATH.sub("", message).rstrip(" -")
        elif key:
            field = str(key)
        detail = f"{field}: {message}" if field else message
    return _json(ErrorBody(code="invalid_input", detail=detail, field=field), 400)


def http_error_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    code = "not_authenticated" if isinstance(exc, NotAuthorizedException) else _code_for(exc.status_code)
    return _json(ErrorBody(code=code, detail=exc.detail), exc.status_code, exc.headers)


# A database restart takes seconds: clients and load balancers should try again, not report a bug.
RETRY_AFTER_SECONDS = 5


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if is_transient(exc):
        log.warning("%s %s: a server is unreachable: %r", request.method, request.url.path, exc)
        return _json(
            ErrorBody(
                code="unavailable",
                detail="the service cannot reach its database at the moment; please try again in a few "
                "seconds",
            ),
            503,
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _json(
        ErrorBody(code="internal_error", detail="internal error; it has been logged"),
        HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _code_for(status: int) -> str:
    return {
        400: "bad_request",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        415: "unsupported_media_type",
        429: "rate_limited",
        503: "unavailable",
    }.get(status, "http_error")


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
}
