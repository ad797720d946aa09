"""Form fields into the API's schemas, and the API's errors back onto the fields they name; ``submit_form``
is the shape every administration form shares (convert, call the service, show the page again on a refusal)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import msgspec

from helpdesk.core.errors import DomainError, NotAuthenticated, PermissionDenied
from helpdesk.web.i18n import N_

T = TypeVar("T")
R = TypeVar("R")
Gettext = Callable[[str], str]
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


def convert(
    payload: dict[str, Any],
    schema: type[T],
    aliases: dict[str, str] | None = None,
    *,
    gettext: Gettext | None = None,
) -> T:
    """``msgspec.convert`` that raises ``FormErrors`` naming the form field instead of a JSON path, in the
    reader's language when ``gettext`` is given."""
    try:
        return msgspec.convert(payload, schema)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _AT.search(message)
        path = match.group(1) if match else ""
        if missing := _MISSING.match(_AT.sub("", message)):
            # Said next to the input the form left out, not above the form naming a schema field.
            path = f"{path}.{missing['n']}" if path else missing["n"]
            name = field_name(path, aliases)
            raise FormErrors({name: (gettext or str)(N_("required"))}) from exc
        name = field_name(path, aliases) if path else ""
        raise FormErrors({name: humane(_AT.sub("", message), name, gettext)}) from exc


_MISSING = re.compile(r"^Object missing required field `(?P<n>\w+)`$")
# msgspec's messages and what a form says instead; ``n`` is the limit in the message.
_RULES = (
    (re.compile(r"^Expected `str` matching regex.*"), N_("has an invalid format")),
    (re.compile(r"^Expected `str` of length <= (?P<n>\d+)$"), N_("at most %(n)s characters")),
    (re.compile(r"^Expected `str` of length >= (?P<n>\d+)$"), N_("at least %(n)s characters")),
    (re.compile(r"^Expected `(?:int|float)` >= (?P<n>\S+)$"), N_("must be at least %(n)s")),
    (re.compile(r"^Expected `(?:int|float)` > (?P<n>\S+)$"), N_("must be more than %(n)s")),
    (re.compile(r"^Expected `(?:int|float)` <= (?P<n>\S+)$"), N_("must be at most %(n)s")),
    (re.compile(r"^Expected `(?:int|float)` < (?P<n>\S+)$"), N_("must be less than %(n)s")),
    (re.compile(r"^Object missing required field `(?P<n>\w+)`$"), N_("%(n)s is required")),
    (re.compile(r"^Expected `(?:int|float)(?: \| null)?`, got `str`$"), N_("must be a number")),
    (re.compile(r"^Invalid RFC3339 encoded (?:date|datetime)$"), N_("not a valid date")),
)


def humane(message: str, name: str = "", gettext: Gettext | None = None) -> str:
    """msgspec's message in words for a form: "must be at least 1" rather than "Expected `int` >= 1"."""
    translate = gettext or (lambda text: text)
    if "email" in name and "matching regex" in message:
        return translate(N_("not a valid e-mail address"))
    for pattern, words in _RULES:
        if found := pattern.match(message):
            # msgspec writes a float limit as 100.0; a form reads 100.
            return translate(words) % {k: v.removesuffix(".0") for k, v in found.groupdict().items()}
    return message


def errors_of(exc: DomainError, aliases: dict[str, str] | None = None) -> dict[str, str]:
    """A service's error (``InvalidInput`` with ``field``) as form errors; the detail loses its "field:" prefix."""
    detail = exc.detail
    if exc.field and detail.startswith(f"{exc.field}:"):
        detail = detail[len(exc.field) + 1 :].strip()
    return {field_name(exc.field, aliases) if exc.field else "": detail}


Explain = Callable[[DomainError], dict[str, str] | None]


def explained_by(messages: Mapping[tuple[str, str], str]) -> Explain:
    """An ``explain`` for ``submit_form``: a service's error found by its (``code``, ``field``) becomes that
    catalog message on that field (the page translates it). For the refusals whose English detail carries a
    name or an id, which no catalog message matches."""

    def explain(exc: DomainError) -> dict[str, str] | None:
        message = messages.get((exc.code, exc.field or ""))
        return {exc.field or "": message} if message else None

    return explain


async def submit_form(
    action: Callable[[], Awaitable[R]],
    show_errors: Callable[[dict[str, str]], Awaitable[R]],
    *,
    aliases: dict[str, str] | None = None,
    explain: Explain | None = None,
) -> R:
    """Run a form's ``action`` (convert the form into the schema, call the service, answer with a redirect)
    and return its answer; when the schema or the service refuses the form, return ``show_errors`` with the
    messages by field instead (the page again, with each message next to its input).

    ``explain`` may word a service's error itself (e.g. by its ``code`` and ``field``, as a catalog message
    the page translates); otherwise its detail is put on the field it names. Authentication and permission
    errors are not form errors and propagate, except a permission error naming a field: the person may send
    the form, only not with that value (a shared canned response from an agent).
    """
    try:
        return await action()
    except FormErrors as exc:
        errors = exc.errors
    except DomainError as exc:
        if isinstance(exc, NotAuthenticated) or (isinstance(exc, PermissionDenied) and not exc.field):
            raise
        errors = (explain(exc) if explain else None) or errors_of(exc, aliases)
    return await show_errors(errors)
