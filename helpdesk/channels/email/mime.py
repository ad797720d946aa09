"""The MIME tree walk behind :func:`helpdesk.channels.email.parser.parse_message`.

One iterative pass in document order collects body candidates, attachments, delivery-status blocks and
the headers of a returned message, under limits on part count, nesting depth and attachment size. Nothing
here raises on malformed input: problems become readable ``defects``.
"""

from __future__ import annotations

import email
import email.message
import email.utils
import hashlib
import re
from collections.abc import Sequence
from email import policy

import msgspec

from helpdesk.channels.email.headers import (
    clean_header_text,
    decode_bytes,
    decode_header_text,
    normalise_charset,
)

MAX_DEPTH = 30  # real mail nests a few levels; deeper is an attack on recursion, not a message

Message = email.message.Message
HeaderList = list[tuple[str, str]]


class Attachment(msgspec.Struct, frozen=True):
    """A file carried by the mail. ``content`` is None when the file was not kept (``skipped_reason``).

    Attachments are opaque blobs: never decompressed, opened or renamed by type. ``size`` is the decoded
    size when the part was decoded, else the size estimated from the encoded payload: the cap is checked
    on that estimate first, so an oversized part is never decoded into memory.
    """

    filename: str
    content_type: str
    size: int
    content_id: str | None = None
    inline: bool = False
    sha256: str | None = None
    content: bytes | None = None
    skipped_reason: str | None = None


class MimeWalk:
    """What one walk found. Bodies inside attached messages are kept apart: they are only a fallback."""

    def __init__(self, fallback_charsets: Sequence[str], max_attachment_bytes: int, max_parts: int) -> None:
        self.fallback_charsets = fallback_charsets
        self.max_attachment_bytes = max_attachment_bytes
        self.max_parts = max_parts
        self.parts_seen = 0
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.nested_texts: list[str] = []
        self.nested_htmls: list[str] = []
        self.attachments: list[Attachment] = []
        self.defects: list[str] = []
        self.truncated = False
        self.delivery_status: list[str] = []
        self.returned_headers: HeaderList = []


def raw_headers(message: Message, fallback_charsets: Sequence[str]) -> HeaderList:
    """All headers of ``message`` as (name, decoded value) pairs, read raw so no header can fail to parse."""
    return [(name, decode_header_text(str(value), fallback_charsets)) for name, value in message.raw_items()]


def describe_defect(defect: object) -> str:
    """ "StartBoundaryNotFoundDefect" -> "start boundary not found", plus the stdlib's detail if any."""
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(defect).__name__).lower().removesuffix(" defect")
    detail = str(defect).strip()
    return f"{words}: {detail}" if detail and detail.lower() != words else words


def _raw_param(part: Message, header: str, param: str) -> str | None:
    # Parameters are read from the raw header through a compat32 view: the structured header would
    # already have replaced raw 8-bit bytes (Outlook Express filenames) that we can still decode.
    raw = next((str(v) for k, v in part.raw_items() if k.lower() == header), None)
    if raw is None:
        return None
    view = email.message.Message()
    view[header] = raw
    value = view.get_param(param, header=header)
    if value is None or isinstance(value, str):
        return value
    return str(email.utils.collapse_rfc2231_value(value))


def attachment_filename(part: Message, fallback_charsets: Sequence[str]) -> str:
    """The part's filename, decoded (RFC 2231, RFC 2047 even where illegal, raw 8-bit) and reduced to a
    safe label: one line, no path components, at most 255 characters; empty when there is none."""
    raw = _raw_param(part, "content-disposition", "filename") or _raw_param(part, "content-type", "name")
    if not raw:
        return ""
    name = clean_header_text(decode_header_text(raw, fallback_charsets), max_length=255)
    # A name is a label, never a path: "../../etc/passwd" and "C:\\x.exe" keep only their last component.
    return re.split(r"[\\/]", name)[-1].strip(" .")


def _estimated_size(part: Message) -> int:
    payload = part.get_payload(decode=False)
    length = len(payload) if isinstance(payload, str | bytes) else 0
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    return length * 3 // 4 if encoding == "base64" else length


def _payload_bytes(part: Message, walk: MimeWalk) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, AssertionError) as error:
        walk.defects.append(f"{part.get_content_type()}: payload not decodable ({error})")
        return b""
    return data if isinstance(data, bytes) else b""


def _skip(walk: MimeWalk, label: str, content_type: str, size: int, **fields: object) -> None:
    reason = f"{label} is {size} bytes, over the {walk.max_attachment_bytes}-byte cap; not kept"
    walk.defects.append(reason)
    walk.attachments.append(
        Attachment(filename=str(fields.get("filename", "")), content_type=content_type, size=size,
                   content_id=fields.get("content_id"), inline=bool(fields.get("inline")),  # type: ignore[arg-type]
                   skipped_reason=reason)
    )  # fmt: skip


def _add_attachment(part: Message, walk: MimeWalk, content_type: str) -> None:
    filename = attachment_filename(part, walk.fallback_charsets)
    content_id_raw = clean_header_text(str(part.get("Content-ID", "") or ""), max_length=250)
    content_id = content_id_raw.strip("<>") or None
    inline = part.get_content_disposition() == "inline" or (content_id is not None and not filename)
    label = f"attachment {filename or content_type}"
    estimate = _estimated_size(part)
    if estimate > walk.max_attachment_bytes:
        _skip(walk, label, content_type, estimate, filename=filename, content_id=content_id, inline=inline)
        return
    data = _payload_bytes(part, walk)
    if len(data) > walk.max_attachment_bytes:
        _skip(walk, label, content_type, len(data), filename=filename, content_id=content_id, inline=inline)
        return
    walk.attachments.append(
        Attachment(filename=filename, content_type=content_type, size=len(data), content_id=content_id,
                   inline=inline, sha256=hashlib.sha256(data).hexdigest(), content=data)
    )  # fmt: skip


def _text_of(part: Message, walk: MimeWalk) -> str:
    data = _payload_bytes(part, walk)
    declared = part.get_content_charset()
    text, used = decode_bytes(data, declared, walk.fallback_charsets)
    if declared and normalise_charset(declared) not in (None, used) and not data.isascii():
        walk.defects.append(
            f"{part.get_content_type()}: declared charset {declared} did not fit; used {used}"
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_like_dsn(part: Message) -> bool:
    # Some MTAs label the status block text/plain; recognise it by its mandatory fields.
    text = part.get_payload(decode=False)
    return isinstance(text, str) and "final-recipient:" in text.lower() and "\naction:" in text.lower()


def _delivery_status_text(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):  # the stdlib parses each status block into a header-only message
        blocks = [block for block in payload if isinstance(block, Message)]
        return "\n\n".join("\n".join(f"{k}: {v}" for k, v in block.raw_items()) for block in blocks)
    return str(payload)


def _keep_attached_message(part: Message, inner: Message, walk: MimeWalk) -> None:
    try:
        data = inner.as_bytes(policy=policy.compat32)
    except (ValueError, TypeError, LookupError, UnicodeError, KeyError) as error:
        walk.defects.append(f"attached message could not be re-serialised ({error})")
        return
    name = attachment_filename(part, walk.fallback_charsets) or "attached-message.eml"
    if len(data) > walk.max_attachment_bytes:
        _skip(walk, f"attached message {name}", "message/rfc822", len(data), filename=name)
        return
    walk.attachments.append(
        Attachment(filename=name, content_type="message/rfc822", size=len(data),
                   sha256=hashlib.sha256(data).hexdigest(), content=data)
    )  # fmt: skip


Frame = tuple[Message, int, bool]


def _attached_message(part: Message, walk: MimeWalk, depth: int, nested: bool, stack: list[Frame]) -> None:
    if part.get_content_type() == "text/rfc822-headers":
        inner = email.message_from_string(str(part.get_payload()), policy=policy.compat32)
    else:
        payload = part.get_payload()
        if not isinstance(payload, list) or not payload or not isinstance(payload[0], Message):
            return
        inner = payload[0]
        # Kept whole as an .eml file; its body is only a fallback for an empty outer body. A multipart
        # attachment's get_content() raises KeyError, hence the walk instead.
        stack.append((inner, depth + 1, True))
        if not nested:
            _keep_attached_message(part, inner, walk)
    if not walk.returned_headers:
        walk.returned_headers = raw_headers(inner, walk.fallback_charsets)


def walk_mime(root: Message, walk: MimeWalk) -> None:
    """Walk ``root`` depth-first in document order, filling ``walk``; stops after ``walk.max_parts``."""
    stack: list[Frame] = [(root, 0, False)]
    while stack:
        part, depth, nested = stack.pop()
        walk.parts_seen += 1
        if walk.parts_seen > walk.max_parts:
            walk.truncated = True
            walk.defects.append(f"more than {walk.max_parts} MIME parts; the rest was not read")
            return
        if depth > MAX_DEPTH:
            walk.truncated = True
            walk.defects.append(f"MIME nesting deeper than {MAX_DEPTH}; the deeper parts were not read")
            continue
        walk.defects.extend(describe_defect(d) for d in part.defects)
        content_type = part.get_content_type()
        if content_type == "message/delivery-status" or (
            content_type == "text/plain" and depth > 0 and _looks_like_dsn(part)
        ):
            walk.delivery_status.append(_delivery_status_text(part))
            continue
        if content_type in ("message/rfc822", "message/global", "text/rfc822-headers") and depth > 0:
            _attached_message(part, walk, depth, nested, stack)
            continue
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((c, depth + 1, nested) for c in reversed(children) if isinstance(c, Message))
            continue
        _leaf(part, walk, content_type, nested)


def _leaf(part: Message, walk: MimeWalk, content_type: str, nested: bool) -> None:
    disposition = part.get_content_disposition()
    # A multipart without a usable boundary arrives as one opaque payload: read it as text, not a file.
    textual = content_type in ("text/plain", "text/html") or content_type.startswith("multipart/")
    named = bool(attachment_filename(part, walk.fallback_charsets))
    if textual and disposition != "attachment" and not (disposition == "inline" and named):
        text = _text_of(part, walk)
        html = content_type == "text/html"
        if nested:
            (walk.nested_htmls if html else walk.nested_texts).append(text)
        else:
            (walk.htmls if html else walk.texts).append(text)
    elif not nested:
        _add_attachment(part, walk, content_type)
