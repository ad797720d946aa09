"""Form fields into the API's schemas, and the API's errors back onto the fields they name."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from helpdesk.core.errors import DomainError

T = TypeVar("T")
_AT = re.compile(r" - at `\$\.?([^`]*)`")


class FormErrors(Exception):
    """Messages by form field name; ``""`` holds a message for the whole form."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values()), "invalid form"))
        self.errors = errors


def field_name(path: str, aliases: dict[str, str] | None = None) -> str:
    """A schema path (``calendar.week.mon``, ``targets.P1.first_response_minutes``) as a form field name
    (``week_mon``); ``aliases`` maps the paths whose form field is named differently."""
    aliases = aliases or {}
    cleaned = re.sub(r"\[\d+\]", "", path)
    for prefix in sorted(aliases, key=len, reverse=True):
        if cleaned == prefix or cleaned.startswith(prefix + "."):
            return aliases[prefix]
    return cleaned.replace(".", "_")


def convert(payload: dict[str, Any], schema: type[T], aliases: dict[str, str] | None = None) -> T:
    """``msgspec.convert`` that raises ``FormErrors`` naming the form field instead of a JSON path."""
    try:
        return msgspec.convert(payload, schema)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _AT.search(message)
        path = match.group(1) if match else ""
        name = field_name(path, aliases) if path else ""
        raise FormErrors({name: humane(_AT.sub("", message), name)}) from exc


_RULES = (
    (re.compile(r"^Expected `str` matching regex.*"), "has an invalid format"),
    (re.compile(r"^Expected `str` of length <= (\d+)$"), r"at most \1 characters"),
    (re.compile(r"^Expected `str` of length >= (\d+)$"), r"at least \1 characters"),
    (re.compile(r"^Expected `(?:int|float)` >= (\S+)$"), r"must be at least \1"),
    (re.compile(r"^Expected `(?:int|float)` > (\S+)$"), r"must be more than \1"),
    (re.compile(r"^Expected `(?:int|float)` <= (\S+)$"), r"must be at most \1"),
    (re.compile(r"^Object missing required field `(\w+)`$"), r"\1 is required"),
)


def humane(message: str, name: str = "") -> str:
    """msgspec's message in words for a form: "must be at least 1" rather than "Expected `int` >= 1"."""
    if "email" in name and "matching regex" in message:
        return "not a valid e-mail address"
    for pattern, replacement in _RULES:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message


def errors_of(exc: DomainError, aliases: dict[str, str] | None = None) -> dict[str, str]:
    """A service's error (``InvalidInput`` with ``field``) as form errors; the detail loses its "field:" prefix."""
    detail = exc.detail
    if exc.field and detail.startswith(f"{exc.field}:"):
        detail = detail[len(exc.field) + 1 :].strip()
    return {field_name(exc.field, aliases) if exc.field else "": detail}
