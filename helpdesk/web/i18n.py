"""English and Russian for the web pages: Babel catalogs read straight from the ``.po`` files.

The catalogs are compiled in memory on first use, so a plain ``pip install -e .`` (no build step) serves both
languages. The language is the signed-in person's setting, else a ``hd_lang`` cookie (the language switch),
else the browser's ``Accept-Language``, else the default.

Times are stored in UTC and shown in a zone chosen at the edge: the page's ``tz`` (the viewer's zone) unless a
filter names another (a technician's calendar zone), always with the zone's abbreviation.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import pass_context
from jinja2.runtime import Context

from helpdesk.core.zones import zone_named

LOCALES = ("en", "ru")
DEFAULT_LOCALE = "en"
LANG_COOKIE = "hd_lang"
CATALOG_DIR = Path(__file__).parent / "locale"


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    path = CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def negotiate(
    *, setting: str | None, cookie: str | None, accept_language: str | None, default: str = DEFAULT_LOCALE
) -> str:
    """The first supported language among the person's setting, the cookie and ``Accept-Language``."""
    for choice in (setting, cookie):
        if choice and choice[:2].lower() in LOCALES:
            return choice[:2].lower()
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            weighted.append((-quality, index, tag[:2].lower()))
    for _, _, language in sorted(weighted):
        if language in LOCALES:
            return language
    return default if default in LOCALES else DEFAULT_LOCALE


def _locale(context: Context) -> str:
    value = context.get("lang")
    return value if isinstance(value, str) and value in LOCALES else DEFAULT_LOCALE


def in_zone(value: datetime, zone: tzinfo | None) -> datetime:
    """``value`` (aware; naive is read as UTC, the storage zone) as the wall-clock time in ``zone``."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone or UTC)


def format_datetime(
    value: datetime | None, locale: str, form: str = "medium", zone: tzinfo | None = None
) -> str:
    """``1 Mar 2027, 10:00:00 CET``: the date and time in ``zone`` (UTC when none) with its abbreviation;
    ``form`` is ``medium``, ``short`` or ``date`` (the day in that zone, no time)."""
    if value is None:
        return ""
    local = in_zone(value, zone)
    if form == "date":
        return dates.format_date(local.date(), format="medium", locale=locale)
    pattern = "short" if form == "short" else "medium"
    shown = dates.format_datetime(local, format=pattern, tzinfo=local.tzinfo, locale=locale)
    return f"{shown} {local.tzname()}"


def format_clock(value: datetime, zone: tzinfo | None) -> str:
    """``09:00``: the time of day in ``zone``, 24-hour as on every schedule of the product."""
    return in_zone(value, zone).strftime("%H:%M")


def zone_abbreviation(value: datetime, zone: tzinfo | None) -> str:
    """``CET`` or ``CEST``: the zone's name at that instant (summer time changes it)."""
    return in_zone(value, zone).tzname() or "UTC"


def format_duration(seconds: float, locale: str) -> str:
    return dates.format_timedelta(timedelta(seconds=seconds), threshold=1.1, locale=locale)


@pass_context
def _gettext(context: Context, message: str) -> str:
    trans = context.get("translations")
    return trans.gettext(message) if isinstance(trans, NullTranslations) else message


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    trans = context.get("translations")
    if isinstance(trans, NullTranslations):
        return trans.ngettext(singular, plural, count)
    return singular if count == 1 else plural


def _zone(context: Context, zone: str | tzinfo | None) -> tzinfo:
    """The zone a filter names (an IANA name or a zone), else the page's ``tz`` (the viewer's), else UTC."""
    if isinstance(zone, tzinfo):
        return zone
    if isinstance(zone, str):
        return zone_named(zone)
    page_zone = context.get("tz")
    return page_zone if isinstance(page_zone, tzinfo) else UTC


@pass_context
def _dt_filter(
    context: Context, value: datetime | None, form: str = "medium", zone: str | tzinfo | None = None
) -> str:
    return format_datetime(value, _locale(context), form, _zone(context, zone))


@pass_context
def _clock_filter(context: Context, value: datetime | None, zone: str | tzinfo | None = None) -> str:
    return "" if value is None else format_clock(value, _zone(context, zone))


@pass_context
def _day_minutes_filter(context: Context, value: datetime | None, zone: str | tzinfo | None = None) -> int:
    """Minutes since midnight in the zone (where a visit sits on a day's time bar)."""
    if value is None:
        return 0
    local = in_zone(value, _zone(context, zone))
    return local.hour * 60 + local.minute


@pass_context
def _zone_filter(context: Context, value: datetime | None, zone: str | tzinfo | None = None) -> str:
    return "" if value is None else zone_abbreviation(value, _zone(context, zone))


@pass_context
def _num_filter(context: Context, value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return numbers.format_decimal(value, format=pattern, locale=_locale(context))


@pass_context
def _duration_filter(context: Context, seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(seconds, _locale(context))


@pass_context
def _countdown_filter(context: Context, due: datetime | None, now: datetime) -> str:
    from helpdesk.web.text import countdown_text

    if due is None:
        return ""
    units = (_gettext(context, "d"), _gettext(context, "h"), _gettext(context, "m"))
    return countdown_text((due - now).total_seconds(), units)


def language_name(code: str) -> str:
    return str(Locale.parse(code).get_display_name(code)).capitalize()


def configure_jinja(engine: Any) -> None:
    """Install gettext (per request, from the ``translations`` in the page's context) and locale filters."""
    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    env.filters["dt"] = _dt_filter
    env.filters["clock"] = _clock_filter
    env.filters["zone"] = _zone_filter
    env.filters["day_minutes"] = _day_minutes_filter
    env.filters["num"] = _num_filter
    env.filters["duration"] = _duration_filter
    env.filters["countdown"] = _countdown_filter
    env.globals["LOCALES"] = [(code, language_name(code)) for code in LOCALES]


def N_(message: str) -> str:
    return message


# Codes the pages show through ``_(code)``: listed so that extraction puts them in the catalogs.
CODE_MESSAGES = (
    N_("new"),
    N_("open"),
    N_("pending_customer"),
    N_("pending_internal"),
    N_("resolved"),
    N_("closed"),
    N_("web"),
    N_("email"),
    N_("api"),
    N_("phone"),
    N_("admin"),
    N_("manager"),
    N_("agent"),
    N_("technician"),
    N_("mon"),
    N_("tue"),
    N_("wed"),
    N_("thu"),
    N_("fri"),
    N_("sat"),
    N_("sun"),
)
