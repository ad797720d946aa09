"""Outgoing mail text from Jinja2 templates, in the recipient's language, as plain text and HTML.

Templates live in ``templates/<language>/<kind>.{subject,txt,html}.j2``. The subject comes back as one safe
header line (no CR/LF or control characters, whatever a customer typed into the values); the HTML is
autoescaped; the plain text is not escaped (it is text).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from helpdesk.channels.email.headers import safe_header_value

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"


class RenderedMail(msgspec.Struct, frozen=True):
    subject: str
    body_text: str
    body_html: str


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
    return environment


def pick_language(language: str | None) -> str:
    """The template language for a customer's ``language`` ("ru", "ru-RU", "RU" → "ru"; unknown → "en")."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def render_mail(kind: str, language: str | None, **values: Any) -> RenderedMail:
    """Render the three parts of mail ``kind`` in ``language``; raises ``jinja2.TemplateNotFound`` for an
    unknown kind and ``jinja2.UndefinedError`` when a value the template uses is missing."""
    environment = _environment()
    folder = pick_language(language)
    context = {"language": folder, **values}

    def render(part: str) -> str:
        return environment.get_template(f"{folder}/{kind}.{part}.j2").render(context)

    return RenderedMail(
        subject=safe_header_value(render("subject"), max_length=400),
        body_text=render("txt"),
        body_html=render("html"),
    )
