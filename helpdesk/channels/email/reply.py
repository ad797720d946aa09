"""The new part of a reply: quoted history and signatures removed, for the ticket view.

The full original is always kept elsewhere; this only decides what an agent reads first, so every rule
errs on the side of keeping text. Plain text goes through mail-parser-reply (reply headers in many
languages) plus our own Russian rules (mail.ru, Yandex, Gmail-ru and Outlook-ru forms), which that library
lacks. HTML replies lose their quote containers (Gmail, Thunderbird, Outlook, Yahoo, mail.ru, Yandex) before
they are rendered as text, so a quote never depends on how text conversion happened to lay it out.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence

import msgspec
from mailparser_reply import EmailMessage

from helpdesk.channels.email.sanitize import html_to_text

DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "cs", "ja", "zh")

_MONTHS_RU = (
    r"(?:янв|фев|мар|апр|мая|май|июн|июл|авг|сен|окт|ноя|дек)[а-я]*\.?"
)  # fmt: skip
_DATE = r"(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}\s+" + _MONTHS_RU + r"|\d{1,2}:\d{2})"

# Where a quoted Russian message starts. Each pattern matches the LAST line of the attribution; lines just
# above it that carry a date or an address are taken along (Gmail and Android wrap long attributions).
_RU_HEADERS = (
    # "26 июня 2014 г., в 14:41, Иван <ivan@example.com> написал(а):", "... пользователь ... написал:"
    r"^[ >]*.*(?:пишет|писал|написал|написала|написал\(а\))\s*:\s*$",
    # mail.ru: "Thu, 26 Jun 2014 14:00:51 +0400 от Alexander L <abc@example.com>:"
    r"^[ >]*.*\d{1,2}:\d{2}.*\sот\s.+:\s*$",
    # Yandex: "26.06.2014, 14:41, "Alexander L" <abc@example.com>:"
    r"^[ >]*\d{1,2}\.\d{1,2}\.\d{2,4},\s*\d{1,2}:\d{2},\s*.+:\s*$",
    # Outlook-ru and Windows Mail: an "От:" line followed closely by "Отправлено:/Дата:/Кому:/Тема:"
    r"^[ >*]*От\s*:[ *]*.*\n(?:.*\n){0,2}?[ >*]*(?:Отправлено|Дата|Кому|Тема|Копия)\s*:",
    r"^[ >]*-{2,}\s*(?:Исходное сообщение|Пересылаемое сообщение|Оригинальное сообщение)\s*-{2,}\s*$",
)
_RU_HEADER = re.compile("|".join(f"(?:{p})" for p in _RU_HEADERS), re.MULTILINE | re.IGNORECASE)

# Signatures we remove without hesitation: the RFC 3676 delimiter and the phrases phones and web mailers add.
_SIGNATURE_START = re.compile(
    r"^(?:--|"
    r"(?:sent from|get outlook for|sent with|envoyé de|gesendet von)\b.*|"
    r"(?:отправлено (?:с|из|со)|отправлено с моего|с уважением,?)\b.*)$",
    re.IGNORECASE,
)
_ATTRIBUTION_TAIL = re.compile(
    r"(?:@|\d{1,2}:\d{2}|\bwrote\b|\bschrieb\b|\bот\b|пишет|написал).*:\s*$", re.IGNORECASE
)


class ReplyFragment(msgspec.Struct, frozen=True):
    """One message of a reply chain: its header line(s), its text, and what mail-parser-reply classed as
    signature. ``body`` has header and signature removed; ``content`` keeps the signature."""

    header: str
    content: str
    body: str
    signature: str


def _ru_split_points(text: str) -> list[int]:
    points: list[int] = []
    for match in _RU_HEADER.finditer(text):
        start = match.start()
        # Take along directly preceding lines of a wrapped attribution (no blank line in between).
        while start > 0:
            previous_start = text.rfind("\n", 0, start - 1) + 1
            previous = text[previous_start : start - 1]
            if not previous.strip() or not re.search(_DATE + r"|@|<", previous):
                break
            start = previous_start
        if start > 0 and (not points or start > points[-1]):
            points.append(start)
    return points


def split_replies(text: str, languages: Sequence[str] = DEFAULT_LANGUAGES) -> list[ReplyFragment]:
    """Split a plain-text reply into its messages, newest first. Never empty for non-empty input.

    Russian reply headers split first (mail-parser-reply has no Russian rules), then each piece goes
    through mail-parser-reply with ``languages`` (English is always included). Lines are stripped of
    surrounding whitespace, as mail-parser-reply does.
    """
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    bounds = [0, *_ru_split_points(normalised), len(normalised)]
    fragments: list[ReplyFragment] = []
    for start, end in itertools.pairwise(bounds):
        piece = normalised[start:end]
        if not piece.strip():
            continue
        message = EmailMessage(text=piece, languages=list(languages)).read()
        for reply in message.replies:
            fragments.append(
                ReplyFragment(
                    header=reply.headers or "",
                    content=reply.full_body,
                    body=reply.body,
                    signature=reply.signatures or "",
                )
            )
    return fragments or [ReplyFragment(header="", content="", body="", signature="")]


@functools.lru_cache(maxsize=8)
def _header_pattern(languages: tuple[str, ...]) -> re.Pattern[str]:
    # mail-parser-reply rebuilds this pattern from its language tables for every message it reads.
    pattern: re.Pattern[str] = EmailMessage(text="", languages=list(languages)).HEADER_REGEX
    return pattern


def _first_message(piece: str, languages: tuple[str, ...]) -> str:
    """``content`` of mail-parser-reply's first reply of ``piece``, without its signature and disclaimer
    searches and without finding every later header: what ``extract_reply`` needs, read the same way
    (``EmailMessage.read``: cut at each header's first occurrence, skip empty pieces, drop the header)."""
    text: str = EmailMessage(text=piece, languages=list(languages)).text  # the library's own normalisation
    pattern = _header_pattern(languages)
    position, previous = 0, ""
    for match in pattern.finditer(text):
        for header in match.groups() if pattern.groups > 1 else (match.group(pattern.groups),):
            if not header:
                continue
            found = text.find(header, position + 1 if position > 0 else position)
            content, header_before = text[position:found].strip(), previous.strip()
            position, previous = (found if found >= 0 else 0), header
            if content:
                return content.replace(header_before, "").strip()
    return text[position:].strip().replace(previous.strip(), "").strip()


def _latest_message(text: str, languages: Sequence[str]) -> str:
    """``split_replies(text, languages)[0].content``, computed without splitting the rest of the chain."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    bounds = [0, *_ru_split_points(normalised), len(normalised)]
    for start, end in itertools.pairwise(bounds):
        piece = normalised[start:end]
        if piece.strip():
            return _first_message(piece, tuple(languages))
    return ""


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _drop_attribution(kept: list[str]) -> None:
    # The attribution may be wrapped over two lines ("On Wed, ... Steven <s@example.com>" / "wrote:").
    if kept and _ATTRIBUTION_TAIL.search(kept[-1]):
        kept.pop()
        if kept and kept[-1].strip() and re.search(_DATE + r"|@|<", kept[-1]):
            kept.pop()


def _remove_interleaved_quotes(text: str) -> str:
    """Bottom-posted and inline replies: drop ``>`` lines and their attributions, keep the answers."""
    lines = text.split("\n")
    first_quoted = next((i for i, line in enumerate(lines) if _is_quoted(line)), None)
    if first_quoted is None:
        return text
    if not any(line.strip() and not _is_quoted(line) for line in lines[first_quoted:]):
        return text  # top-posted: the quote is the tail, the header rules below handle it
    kept: list[str] = []
    for line in lines:
        if _is_quoted(line):
            _drop_attribution(kept)  # only the line(s) right above a quote can be its attribution
            continue
        kept.append(line)
    return "\n".join(kept)


def _drop_trailing_quote(lines: list[str]) -> list[str]:
    # A reply whose quote has no recognised header still ends in "> ..." lines, often after an
    # attribution line such as "Иван <ivan@example.com>:" in a form no rule knows.
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    if lines and _ATTRIBUTION_TAIL.search(lines[-1]):
        lines.pop()
    while lines and (not lines[-1].strip() or re.fullmatch(r"\s*[-_=*]{3,}\s*", lines[-1])):
        lines.pop()
    return lines


def strip_signature(text: str) -> str:
    """Remove a trailing signature: from the first ``-- `` line, "Sent from my ...", "Get Outlook for ...",
    "Отправлено с/из ...", "С уважением" onwards. The first line is never treated as a signature."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if index > 0 and _SIGNATURE_START.match(line.strip()):
            lines = lines[:index]
            break
    return "\n".join(lines).strip()


def extract_reply(
    text: str, *, keep_signature: bool = False, languages: Sequence[str] = DEFAULT_LANGUAGES
) -> str:
    """The newest message of a plain-text reply, without quoted history (and signature, by default).

    Guarantees: never raises; returns a prefix (modulo whitespace) of the input's first message; when
    stripping would leave nothing (a reply that is only a quote, or a message that starts with a header),
    the whole text is returned stripped instead, so no mail ever shows up empty.
    """
    if not text.strip():
        return ""
    latest = _latest_message(_remove_interleaved_quotes(text.replace("\r\n", "\n")), languages)
    lines = _drop_trailing_quote(latest.split("\n"))
    result = "\n".join(lines).strip()
    if not keep_signature:
        result = strip_signature(result)
    return result or text.strip()


# --- HTML -----------------------------------------------------------------------------------------------

_QUOTE_CLASSES = frozenset(
    {"gmail_quote", "gmail_extra", "moz-cite-prefix", "yahoo_quoted", "ydp_quoted", "protonmail_quote",
     "zmail_extra", "x_gmail_quote", "yandex_quote", "mail-quote", "js-readmsg-msg"}
)  # fmt: skip
_QUOTE_IDS = frozenset(
    {"divrplyfwdmsg", "x_divrplyfwdmsg", "olk_src_body_section", "appendonsend", "stopspelling", "zwchr",
     "reply-intro", "isforwardcontent", "mail-app-auto-quote"}
)  # fmt: skip


def is_quote_container(tag: str, attributes: dict[str, str]) -> bool:
    """True for the HTML elements that mail clients wrap quoted history in (or start it with): any
    ``<blockquote>``, ``<hr>`` separators (Outlook 2003, Hotmail, Comcast), Gmail/Thunderbird/Yahoo quote
    classes, Outlook's ``divRplyFwdMsg``/``OLK_SRC_BODY_SECTION`` and the bordered header block of Outlook
    2007+/Windows Mail (``border-top: solid``), Yandex's ``data-marker="__QUOTED_TEXT__"``."""
    if tag in ("blockquote", "hr"):
        return True
    classes = set(attributes.get("class", "").lower().split())
    if classes & _QUOTE_CLASSES:
        return True
    if attributes.get("id", "").lower() in _QUOTE_IDS:
        return True
    if attributes.get("data-marker") == "__QUOTED_TEXT__":
        return True
    style = re.sub(r"\s+", "", attributes.get("style", "").lower())
    return tag == "div" and ("border-top:solid" in style or "border-top-style:solid" in style)


def extract_reply_from_html(
    markup: str, *, keep_signature: bool = False, languages: Sequence[str] = DEFAULT_LANGUAGES
) -> str:
    """The newest message of an HTML reply as plain text: conversion stops at the first quote container
    (see :func:`is_quote_container`), then the plain-text rules remove what is left (attribution lines,
    Outlook header blocks without a container). Never raises; never empty for HTML with text."""
    cut = html_to_text(markup, stop_at=is_quote_container)
    if cut.strip():
        return extract_reply(cut, keep_signature=keep_signature, languages=languages)
    return extract_reply(html_to_text(markup), keep_signature=keep_signature, languages=languages)
