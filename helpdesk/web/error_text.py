"""The services' error messages in the reader's language.

Services raise domain errors with an English ``detail`` that the JSON API returns unchanged. Pages show the
same sentence translated: each message below is a service's wording with its variable parts written as
``%(name)s``; it is the catalog's msgid and, compiled into a pattern, it recognises the detail and picks out
the parts. A detail no message matches is shown as the service wrote it; an error page then falls back to a
sentence per error code. To translate a new service message, add its wording here and to the catalogs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from helpdesk.core.errors import DomainError
from helpdesk.web.forms import humane
from helpdesk.web.i18n import N_

Gettext = Callable[[str], str]
_PARAM = re.compile(r"%\((\w+)\)s")
# "subject: must not be blank": a field's name before the message (``errors_of`` strips the known ones).
_LABELLED = re.compile(r"^(?P<label>[A-Za-z_][\w.\[\]-]{0,60}): (?P<rest>.+)$", re.DOTALL)
# Parts that are codes with a name in the catalogs (statuses, roles): shown translated, item by item.
CODE_PARAMS = frozenset({"current", "target", "allowed", "status", "role", "roles"})

MESSAGES = (
    # Tickets and work orders: conflicts and lifecycle.
    N_(
        "%(reference)s was changed by someone else since you read it (you sent version %(sent)s, it is now "
        "%(now)s); reload and try again"
    ),
    N_("ticket %(id)s was changed by someone else at the same time; reload and try again"),
    N_("a %(current)s ticket cannot become %(target)s; a customer reply opens a new ticket linked to it"),
    N_("a %(current)s ticket cannot become %(target)s"),
    N_("a %(current)s work order cannot become %(target)s; it can become %(allowed)s"),
    N_("nothing (it is final)"),
    N_("must not be blank"),
    N_("queue %(id)s does not exist"),
    N_("customer %(id)s does not exist"),
    N_("customer_email is required"),
    N_("user %(id)s does not exist or is inactive"),
    N_("user %(id)s is a %(role)s and cannot be assigned tickets"),
    N_("only staff set a priority; give impact and urgency instead"),
    N_("only agents, managers and admins can change tickets"),
    N_("your role does not work tickets"),
    N_("ticket %(id)s not found"),
    # Attachments.
    N_("%(file)s: %(size)s bytes is over the limit of %(limit)s bytes per file"),
    N_("%(file)s is empty"),
    N_("%(reference)s would hold more than %(limit)s bytes of files"),
    # Signing in, forms, permissions.
    N_("too many requests: at most %(limit)s per %(seconds)s seconds, try again later"),
    N_("wrong e-mail or password"),
    N_("this sign-in link is invalid or has expired; ask for a new one"),
    N_("the form has expired; reload the page and send it again"),
    N_("sign in to continue"),
    N_("sign in or send an API token"),
    N_("your role cannot open this page"),
    N_("this needs one of the roles: %(roles)s"),
    # People and settings.
    N_("a user with e-mail %(email)s exists already"),
    N_("a group with that name exists already"),
    N_("a customer with that e-mail exists already"),
    N_("unknown time zone %(name)s; use an IANA name such as Europe/Berlin"),
    N_('no working hours on any day; give some, or set "24/7": true'),
    N_("%(text)s is not an interval like 09:00-13:00"),
    N_("interval %(text)s ends before it starts"),
    N_("interval %(text)s is empty"),
    # Field service: work orders, plans and moves.
    N_("give the site's address and coordinates, or an asset"),
    N_("ends before it starts"),
    N_("asset %(id)s does not exist"),
    N_("no asset has serial number %(serial)s"),
    N_("%(skill)s: unknown skill; add it to the skill catalogue first"),
    N_("say why the work order is %(target)s"),
    N_("only a dispatcher sets a work order %(target)s"),
    N_("plan %(id)s is %(status)s; only a done plan is edited"),
    N_("plan %(id)s is %(status)s; only a done plan is published"),
    N_("WO-%(id)s is not in plan %(plan)s"),
    N_("WO-%(id)s cannot be planned on this day (%(reason)s)"),
    N_("technician %(id)s does not work on %(day)s"),
    # A move's broken rules (dispatch.validator), "code: detail".
    N_("skill: needs %(skills)s"),
    N_("pinned: pinned to %(technician)s"),
    N_("travel: starts before arriving"),
    N_("travel: arrives at %(arrival)s, cannot before %(earliest)s"),
    N_("window: starts at %(start)s outside its windows"),
    N_("duration: service time differs from the order's duration"),
    N_("break: service overlaps the lunch break"),
    N_("break: no lunch break"),
    N_("shift: leaves before the technician is ready"),
    N_("shift: returns at %(back)s after %(latest)s"),
    N_("capacity: load %(load)s exceeds capacity %(capacity)s"),
    # Administration forms: people, SLA, technicians, mailboxes, canned responses.
    N_("a group named %(name)s exists already"),
    N_("a calendar named %(name)s exists already"),
    N_("a policy named %(name)s exists already"),
    N_("a mailbox is named %(name)s already"),
    N_("no holiday data for %(code)s; use an ISO 3166-1 alpha-2 code such as DE"),
    N_("user %(id)s is not an active staff user with the role technician"),
    N_("user %(id)s is a technician already"),
    N_("%(minutes)s minutes do not fit the lunch window %(window)s"),
    N_("only managers and admins keep shared responses"),
    # Form validation in words (helpdesk.web.forms.humane) and msgspec's words it leaves alone.
    N_("has an invalid format"),
    N_("at most %(n)s characters"),
    N_("at least %(n)s characters"),
    N_("must be at least %(n)s"),
    N_("must be more than %(n)s"),
    N_("must be less than %(n)s"),
    N_("must be at most %(n)s"),
    N_("%(n)s is required"),
    N_("not a valid e-mail address"),
    N_("must be a number"),
    N_("not a valid date"),
    N_("Invalid enum value %(value)s"),
)

# What an error page says when the detail is not one of the messages above.
BY_CODE = {
    "not_found": N_("This page or record does not exist (any more)."),
    "permission_denied": N_("You are not allowed to do this."),
    "csrf_failed": N_("the form has expired; reload the page and send it again"),
    "not_authenticated": N_("sign in to continue"),
    "conflict": N_("This clashes with what is stored now; reload and try again."),
    "stale_version": N_("Someone else changed this meanwhile; reload and try again."),
    "invalid_input": N_("Some of what was sent is not accepted."),
    "invalid_transition": N_("This step is not possible in the current state."),
    "too_large": N_("This is larger than allowed."),
    "rate_limited": N_("Too many attempts. Wait a minute and try again."),
}


def _pattern(message: str) -> re.Pattern[str]:
    parts = _PARAM.split(message)
    # split() alternates literal text and parameter names.
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(regex, re.DOTALL)


@lru_cache(maxsize=1)
def _rules() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((_pattern(message), message) for message in MESSAGES)


def _code_words(value: str, gettext: Gettext) -> str:
    return ", ".join(gettext(item) for item in value.split(", "))


def localise(text: str, gettext: Gettext) -> str:
    """``text`` in the reader's language: a catalog message, a service message with its parts put into the
    translation, or, for ``label: message``, the label and the message translated; else unchanged."""
    direct = gettext(text)
    if direct != text:
        return direct
    for pattern, message in _rules():
        found = pattern.fullmatch(text)
        if found:
            params = {
                name: _code_words(value, gettext) if name in CODE_PARAMS else value
                for name, value in found.groupdict().items()
            }
            try:
                return gettext(message) % params
            except (KeyError, ValueError, TypeError):
                # A translation naming a part the message has not: the English text says it all.
                return text
    worded = humane(text)
    if worded != text:
        return localise(worded, gettext)
    labelled = _LABELLED.match(text)
    if labelled:
        rest = localise(labelled["rest"], gettext)
        if rest != labelled["rest"]:
            return f"{_label(labelled['label'], gettext)}: {rest}"
    return text


def _label(name: str, gettext: Gettext) -> str:
    """A field name as the form labels it (``subject`` → "Subject"), translated when the catalog has it."""
    for candidate in (name, name.replace("_", " ").capitalize()):
        translated = gettext(candidate)
        if translated != candidate:
            return translated
    return name


def localise_errors(value: Any, gettext: Gettext) -> Any:
    """Every message in a page's errors (a text, a dict by field, a list) in the reader's language."""
    if isinstance(value, str):
        return localise(value, gettext)
    if isinstance(value, dict):
        return {key: localise_errors(item, gettext) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [localise_errors(item, gettext) for item in value]
    return value


def describe(exc: DomainError, gettext: Gettext, language: str) -> str:
    """The error page's sentence: the detail in the reader's language, else a sentence for its code."""
    text = localise(exc.detail, gettext)
    if text != exc.detail or language == "en":
        return text
    fallback = BY_CODE.get(exc.code)
    return gettext(fallback) if fallback else text
