"""English and Russian for the web pages: Babel catalogs read straight from the ``.po`` files.

The catalogs are compiled in memory on first use, so a plain ``pip install -e .`` (no build step) serves both
languages. The language is the signed-in person's setting, else a ``hd_lang`` cookie (the language switch),
else the browser's ``Accept-Language``, else the default.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import pass_context
from jinja2.runtime import Context

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


def format_datetime(value: datetime | None, locale: str, form: str = "medium") -> str:
    if value is None:
        return ""
    pattern = {"short": "short", "medium": "medium", "date": "medium"}.get(form, "medium")
    if form == "date":
        return dates.format_date(value, format=pattern, locale=locale)
    return dates.format_datetime(value, format=pattern, tzinfo=value.tzinfo, locale=locale) + " UTC"


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


@pass_context
def _dt_filter(context: Context, value: datetime | None, form: str = "medium") -> str:
    return format_datetime(value, _locale(context), form)


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
