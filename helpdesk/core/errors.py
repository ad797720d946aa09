"""Domain errors with stable codes. ``helpdesk.app`` maps each class to an HTTP status once."""

from __future__ import annotations


class DomainError(Exception):
    code = "error"
    status_code = 400

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "not_found"
    status_code = 404


class Conflict(DomainError):
    code = "conflict"
    status_code = 409


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status_code = 422


class InvalidInput(DomainError):
    code = "invalid_input"
    status_code = 422


class PermissionDenied(DomainError):
    code = "permission_denied"
    status_code = 403


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status_code = 401


class TooLarge(DomainError):
    code = "too_large"
    status_code = 413


class RateLimited(DomainError):
    code = "rate_limited"
    status_code = 429
