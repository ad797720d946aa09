"""Raw RFC 822 bytes in, a :class:`ParsedMail` out: hardened for the mail customers really send.

The standard library parser splits MIME with ``policy.compat32``: it keeps header values raw instead of
parsing each one into a structured header object (``policy.default`` spent two thirds of a parse there), and
every value we use is decoded by :mod:`headers` anyway. Everything the parser might choke on (header values,
charsets, payload decoding, multipart attachments) is read defensively, and every surprise becomes a
readable entry in ``defects`` instead of an exception. Limits on part count, nesting and attachment size
keep a hostile message from costing more than a normal one.
"""

from __future__ import annotations

import email
import email.utils
import functools
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email import policy
from email.message import Message

import msgspec

from helpdesk.channels.email import loops
from helpdesk.channels.email.headers import (
    DEFAULT_FALLBACK_CHARSETS,
    clean_header_text,
    decode_bytes,
    decode_header,
    references_chain,
)
from helpdesk.channels.email.mime import (
    Attachment,
    HeaderList,
    MimeWalk,
    raw_headers,
    walk_mime,
)
from helpdesk.channels.email.reply import extract_reply, extract_reply_from_html
from helpdesk.channels.email.sanitize import html_to_text, sanitize_html

__all__ = ["Attachment", "MailAddress", "ParsedMail", "parse_deferring_reply", "parse_message", "with_reply"]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_PARTS = 1000

# Containers that are not RFC 822 but end up in mailboxes: OLE2 (Outlook .msg), ZIP, PDF, gzip, PNG.
_BINARY_MAGIC = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"PK\x03\x04", b"%PDF-", b"\x1f\x8b", b"\x89PNG")
_KNOWN_HEADERS = frozenset(
    {"from", "to", "cc", "subject", "date", "message-id", "received", "mime-version", "content-type",
     "return-path", "sender", "reply-to", "delivered-to", "x-mailer", "in-reply-to", "references"}
)  # fmt: skip


class MailAddress(msgspec.Struct, frozen=True):
    """A mailbox: the address as written and a clean one-line display name (may be empty)."""

    address: str
    name: str = ""


class ParsedMail(msgspec.Struct):
    """Everything the help desk needs from one inbound mail; every string is decoded and clean.

    Subjects and names are one line without control characters. ``date`` is aware UTC or None.
    ``body_text`` is the first non-empty text part (derived from the HTML when there is none);
    ``body_html`` is the first non-empty HTML part, sanitised (no scripts, no remote images);
    ``reply_text`` is the new part of the mail without quoted history or signature.
    ``auto_submitted`` means: never answer this mail automatically (``auto_reasons`` says why).
    ``bounce`` comes with ``bounce_report``, whose ids thread the bounce to the RETURNED message.
    ``unparseable`` means the input is not an RFC 822 message at all (``defects`` says why); everything
    else is then empty. ``truncated`` means a part-count or nesting cap stopped the walk.
    ``defects`` lists every repair and limit applied, readable by an operator.
    """

    from_address: str | None = None
    from_name: str = ""
    to: list[MailAddress] = msgspec.field(default_factory=list)
    cc: list[MailAddress] = msgspec.field(default_factory=list)
    reply_to: list[MailAddress] = msgspec.field(default_factory=list)
    subject: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = msgspec.field(default_factory=list)
    date: datetime | None = None
    body_text: str = ""
    body_html: str | None = None
    reply_text: str = ""
    attachments: list[Attachment] = msgspec.field(default_factory=list)
    headers: list[tuple[str, str]] = msgspec.field(default_factory=list)
    auto_submitted: bool = False
    auto_reasons: list[str] = msgspec.field(default_factory=list)
    out_of_office: bool = False
    bounce: bool = False
    bounce_report: loops.BounceReport | None = None
    unparseable: bool = False
    truncated: bool = False
    defects: list[str] = msgspec.field(default_factory=list)


def _refusal(raw: bytes) -> str | None:
    if not raw.strip():
        return "empty input"
    for magic in _BINARY_MAGIC:
        if raw.startswith(magic):
            kind = (
                "an Outlook .msg / OLE2 compound file" if magic.startswith(b"\xd0\xcf") else "a binary file"
            )
            return f"not an RFC 822 message: the input is {kind}"
    header_end = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=4096)
    if b"\x00" in raw[: min(header_end, 4096)]:
        return "not an RFC 822 message: NUL bytes in the header area"
    return None


def _split_address_list(value: str) -> list[str]:
    # Split on commas (and the semicolons Outlook users type) outside quotes, angle brackets and comments.
    if "," not in value and ";" not in value:
        return [value]
    items: list[str] = []
    current: list[str] = []
    quoted, angle, comment = False, 0, 0
    previous = ""
    for ch in value:
        if ch == '"' and previous != "\\" and not comment:
            quoted = not quoted
        elif not quoted:
            angle += (ch == "<") - (ch == ">") if not comment else 0
            comment += (ch == "(") - (ch == ")") if not angle else 0
            angle, comment = max(angle, 0), max(comment, 0)
            if ch in ",;" and not angle and not comment:
                items.append("".join(current))
                current, previous = [], ch
                continue
        current.append(ch)
        previous = ch
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _mailbox(item: str, fallback_charsets: Sequence[str]) -> MailAddress | None:
    match = re.fullmatch(r"(.*?)<([^<>]*)>\s*(?:\((.*)\))?", item, re.DOTALL)
    if match:
        name, address = match.group(1).strip(), match.group(2)
    else:
        comment = re.search(r"\((.*)\)", item, re.DOTALL)
        name = comment.group(1) if comment else ""
        address = re.sub(r"\(.*\)", "", item, flags=re.DOTALL)
    address = clean_header_text(address, max_length=320).replace(" ", "").strip("\"'")
    if "@" not in address:
        return None
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return MailAddress(address=address, name=decode_header(name, fallback_charsets)[:200])


def _addresses(message: Message, name: str, fallback_charsets: Sequence[str]) -> list[MailAddress]:
    """Mailboxes of every ``name`` header, read from the raw value so an encoded or 8-bit display name
    containing a comma cannot split one mailbox into two."""
    wanted = name.lower()
    found: list[MailAddress] = []
    for key, value in message.raw_items():
        if key.lower() != wanted:
            continue
        unfolded = re.sub(r"\r?\n[ \t]*", " ", str(value))
        for item in _split_address_list(unfolded):
            mailbox = _mailbox(item, fallback_charsets)
            if mailbox is not None:
                found.append(mailbox)
    return found


def _parse_date(value: str, defects: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append(f"Date: unreadable value {value[:60]!r}")
        return None
    # "-0000" means "UTC, zone unknown" (RFC 5322 §3.3); the stdlib returns that as naive.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _message_id(headers: HeaderList, name: str) -> str | None:
    value = loops.first_header(headers, name)
    ids = references_chain(value)
    if ids:
        return ids[0]
    return clean_header_text(value, max_length=250) or None


def _first_non_empty(*candidates: list[str]) -> str | None:
    for texts in candidates:
        for text in texts:
            if text.strip():
                return text
    return None


def parse_message(
    raw: bytes,
    *,
    fallback_charsets: Sequence[str] = DEFAULT_FALLBACK_CHARSETS,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    max_parts: int = DEFAULT_MAX_PARTS,
) -> ParsedMail:
    """Parse one raw message. Never raises: input that is not mail comes back with ``unparseable`` set.

    ``fallback_charsets`` are tried, in order, for text whose declared charset is missing or wrong and for
    raw 8-bit headers. Attachments over ``max_attachment_bytes`` are listed but not kept; after
    ``max_parts`` MIME parts the walk stops and ``truncated`` is set. Auto-submitted-ness is decided from
    the outer headers only; a bounce is threaded by the returned message's Message-ID/References.
    """
    mail, reply = parse_deferring_reply(
        raw,
        fallback_charsets=fallback_charsets,
        max_attachment_bytes=max_attachment_bytes,
        max_parts=max_parts,
    )
    return with_reply(mail, reply)


def with_reply(mail: ParsedMail, reply: Callable[[], str]) -> ParsedMail:
    """``mail`` with ``reply_text`` filled in by ``reply`` (from :func:`parse_deferring_reply`): what
    :func:`parse_message` returns, an unparseable mail included when stripping the reply fails."""
    try:
        mail.reply_text = reply()
    except RecursionError:
        return ParsedMail(unparseable=True, defects=["MIME structure nested too deeply to parse"])
    except Exception as error:
        return ParsedMail(unparseable=True, defects=[_failure(error)])
    return mail


def parse_deferring_reply(
    raw: bytes,
    *,
    fallback_charsets: Sequence[str] = DEFAULT_FALLBACK_CHARSETS,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    max_parts: int = DEFAULT_MAX_PARTS,
) -> tuple[ParsedMail, Callable[[], str]]:
    """:func:`parse_message` without stripping the reply, which is half its work: ``reply_text`` is left
    empty and the function returned strips it when called. A mail that opens a ticket keeps its whole text
    and never needs it; only a mail added to a ticket does."""
    refusal = _refusal(raw)
    if refusal is not None:
        return ParsedMail(unparseable=True, defects=[refusal]), str
    try:
        return _parse(raw, fallback_charsets, max_attachment_bytes, max_parts)
    except RecursionError:
        return ParsedMail(unparseable=True, defects=["MIME structure nested too deeply to parse"]), str
    except Exception as error:
        return ParsedMail(unparseable=True, defects=[_failure(error)]), str


def _failure(error: Exception) -> str:
    return f"parser failure: {type(error).__name__}: {error}"[:500]


def _headerless(raw: bytes, fallback_charsets: Sequence[str]) -> tuple[ParsedMail, Callable[[], str]]:
    # A body without headers (a pasted digest, a truncated spool file) is still readable text; anything
    # with many control bytes is some binary format we do not know.
    sample = raw[:4096]
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 13))
    if controls * 20 > len(sample):
        return ParsedMail(
            unparseable=True, defects=["not an RFC 822 message: binary data without mail headers"]
        ), str
    text = decode_bytes(raw, None, fallback_charsets)[0].replace("\r\n", "\n")
    return ParsedMail(
        body_text=text, defects=["no mail headers found; the whole input was read as the body"]
    ), functools.partial(extract_reply, text)


def _parse(
    raw: bytes, fallback_charsets: Sequence[str], max_attachment_bytes: int, max_parts: int
) -> tuple[ParsedMail, Callable[[], str]]:
    message = email.message_from_bytes(raw, policy=policy.compat32)
    headers = raw_headers(message, fallback_charsets)
    if not any(name.lower() in _KNOWN_HEADERS for name, _ in headers):
        return _headerless(raw, fallback_charsets)

    walk = MimeWalk(fallback_charsets, max_attachment_bytes, max_parts)
    walk_mime(message, walk)
    defects = list(dict.fromkeys(walk.defects))

    senders = _addresses(message, "From", fallback_charsets) or _addresses(
        message, "Sender", fallback_charsets
    )
    from_address = senders[0].address if senders else None
    subject = clean_header_text(loops.first_header(headers, "Subject"))

    text = _first_non_empty(walk.texts, walk.nested_texts)
    html = _first_non_empty(walk.htmls, walk.nested_htmls)
    body_text = text if text is not None else (html_to_text(html) if html is not None else "")
    reply: Callable[[], str] = str
    if text is not None:
        reply = functools.partial(extract_reply, text)
    elif html is not None:
        reply = functools.partial(extract_reply_from_html, html)

    content_type = message.get_content_type()
    report_type = message.get_param("report-type")
    is_report = loops.is_delivery_report(content_type, report_type if isinstance(report_type, str) else None)
    is_report = is_report or bool(walk.delivery_status)
    bounce = is_report or loops.looks_like_bounce(from_address, subject, headers)
    report = None
    if bounce:
        report = loops.build_bounce_report(
            recipients=[r for block in walk.delivery_status for r in loops.parse_delivery_status(block)],
            failed_recipients_header=loops.header_values(headers, "X-Failed-Recipients"),
            returned_headers=walk.returned_headers,
            body_text=body_text,
            from_report=is_report,
        )
    verdict = loops.classify_auto_reply(headers, from_address=from_address, subject=subject, is_bounce=bounce)
    if content_type == "multipart/report" and not bounce:
        # Read receipts (MDN) and abuse reports (ARF) are machine-made too.
        verdict = loops.AutoVerdict(True, False, [*verdict.reasons, f"report ({report_type})"])

    return ParsedMail(
        from_address=from_address,
        from_name=senders[0].name if senders else "",
        to=_addresses(message, "To", fallback_charsets),
        cc=_addresses(message, "Cc", fallback_charsets),
        reply_to=_addresses(message, "Reply-To", fallback_charsets),
        subject=subject,
        message_id=_message_id(headers, "Message-ID"),
        in_reply_to=_message_id(headers, "In-Reply-To"),
        references=references_chain(*loops.header_values(headers, "References")),
        date=_parse_date(loops.first_header(headers, "Date"), defects),
        body_text=body_text,
        body_html=sanitize_html(html) if html is not None else None,
        attachments=walk.attachments,
        headers=[(name, clean_header_text(value, max_length=4000)) for name, value in headers],
        auto_submitted=verdict.auto_submitted,
        auto_reasons=verdict.reasons,
        out_of_office=verdict.out_of_office,
        bounce=bounce,
        bounce_report=report,
        truncated=walk.truncated,
        defects=defects,
    ), reply
