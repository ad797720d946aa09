"""Outgoing mail text from Jinja2 templates, in the recipient's language, as plain text and HTML.

Templates live in ``templates/<language>/<kind>.{subject,txt,html}.j2``. The subject comes back as one safe
header line (no CR/LF or control characters, whatever a customer typed into the values); the HTML is
autoescaped; the plain text is not escaped (it is text).

Times are handed to the templates as stored (aware UTC) and shown only through the ``local_date`` and
``local_clock`` filters, which convert them to the reader's zone (see :class:`Reader`) and spell them in the
mail's language, the clock always with the zone's abbreviation: the edge of the mail is where UTC ends. The
test ``another_local_day`` (``expires_at is another_local_day(sent_at)``) tells a template when a time needs
its date beside the clock: when it falls on another day in the reader's zone than the moment compared with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from babel import dates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape

from helpdesk.channels.email.headers import safe_header_value
from helpdesk.core.settings import Settings
from helpdesk.core.zones import zone_named

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"
# The template context key of the zone the filters convert to (not ``zone``: templates use that for a label).
ZONE_KEY = "reader_zone"


class RenderedMail(msgspec.Struct, frozen=True):
    subject: str
    body_text: str
    body_html: str


@dataclass(frozen=True, slots=True)
class Reader:
    """Who a mail is for, as far as its wording goes: the template language and the zone its times are in."""

    language: str
    zone: ZoneInfo


def reader_of(language: str | None, time_zone: str | None, settings: Settings) -> Reader:
    """A person's own language and time zone (a customer's or a staff member's settings), else the help desk's defaults
    (``HELPDESK_DEFAULT_LANGUAGE``, ``HELPDESK_DEFAULT_TIME_ZONE``); a zone unknown to the zone database counts
    as none, so showing a time never fails."""
    return Reader(
        language=pick_language(language or settings.default_language),
        zone=zone_named(time_zone, settings.default_time_zone),
    )


def local_date(value: datetime, zone: tzinfo, language: str) -> str:
    """``March 1, 2027`` / ``1 марта 2027 г.``: the day ``value`` falls on in ``zone``, spelled in ``language``."""
    return dates.format_date(_in_zone(value, zone).date(), format="long", locale=language)


def local_clock(value: datetime, zone: tzinfo) -> str:
    """``12:00 MSK``: the 24-hour time of ``value`` in ``zone`` with the zone's abbreviation at that instant
    (summer time changes it: CET, CEST)."""
    local = _in_zone(value, zone)
    return f"{local:%H:%M} {local.tzname() or 'UTC'}"


def is_another_local_day(value: datetime, reference: datetime, zone: tzinfo) -> bool:
    """True when ``value`` falls on another day in ``zone`` than ``reference`` (the day a mail is sent): then
    the clock alone ("until 00:10") does not say which day is meant."""
    return _in_zone(value, zone).date() != _in_zone(reference, zone).date()


def _in_zone(value: datetime, zone: tzinfo) -> datetime:
    # Naive values are read as UTC, the storage zone (SQLite hands some back without an offset).
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(zone)


def _context_zone(context: Context) -> tzinfo:
    zone = context.get(ZONE_KEY)
    return zone if isinstance(zone, tzinfo) else UTC


@pass_context
def _local_date_filter(context: Context, value: datetime) -> str:
    return local_date(value, _context_zone(context), str(context.get("language", DEFAULT_LANGUAGE)))


@pass_context
def _local_clock_filter(context: Context, value: datetime) -> str:
    return local_clock(value, _context_zone(context))


@pass_context
def _another_local_day_test(context: Context, value: datetime, reference: datetime) -> bool:
    return is_another_local_day(value, reference, _context_zone(context))


def _nl2br(value: str) -> Markup:
    return Markup("<br>\n").join(escape(line) for line in str(value).replace("\r\n", "\n").split("\n"))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
    )
    environment.filters["nl2br"] = _nl2br
    environment.filters["local_date"] = _local_date_filter
    environment.filters["local_clock"] = _local_clock_filter
    environment.tests["another_local_day"] = _another_local_day_test
    return environment


def pick_language(language: str | None) -> str:
    """The template language for a customer's ``language`` ("ru", "ru-RU", "RU" → "ru"; unknown → "en")."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def render_mail(kind: str, language: str | None, **values: Any) -> RenderedMail:
    """Render the three parts of mail ``kind`` in ``language``, its times in UTC (mail to a person goes through
    :func:`render_mail_for`, in their language and zone). Raises ``jinja2.TemplateNotFound`` for an unknown kind and
    ``jinja2.UndefinedError`` when a value the template uses is missing."""
    return _render(kind, pick_language(language), UTC, values)


def render_mail_for(reader: Reader, kind: str, **values: Any) -> RenderedMail:
    """:func:`render_mail` in ``reader``'s language, its times in ``reader``'s zone."""
    return _render(kind, pick_language(reader.language), reader.zone, values)


def render_text_for(reader: Reader, name: str, **values: Any) -> str:
    """One plain-text template ``templates/<language>/<name>.j2`` for ``reader``, such as the internal note
    that says the same as a staff notice; the same filters and errors as :func:`render_mail_for`."""
    language = pick_language(reader.language)
    context = {**values, "language": language, ZONE_KEY: reader.zone}
    return _environment().get_template(f"{language}/{name}.j2").render(context).strip()


def _render(kind: str, language: str, zone: tzinfo, values: dict[str, Any]) -> RenderedMail:
    environment = _environment()
    context = {**values, "language": language, ZONE_KEY: zone}

    def render(part: str) -> str:
        return environment.get_template(f"{language}/{kind}.{part}.j2").render(context)

    return RenderedMail(
        subject=safe_header_value(render("subject"), max_length=400),
        body_text=render("txt"),
        body_html=render("html"),
    )
