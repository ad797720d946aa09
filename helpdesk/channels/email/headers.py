"""Header values in both directions.

Inbound: decode what real mailers send (RFC 2047 encoded words, split multi-byte characters, unknown or
legacy charsets, raw 8-bit bytes) into clean one-line text. Outbound: turn untrusted text (a customer's
subject or name) into header values that cannot inject headers, and normalise subjects for threading.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from collections.abc import Sequence
from email.headerregistry import Address
from email.policy import SMTP

DEFAULT_FALLBACK_CHARSETS: tuple[str, ...] = ("utf-8", "windows-1251", "koi8-r", "latin-1")
MAX_HEADER_TEXT = 998  # RFC 5322 line limit; also bounds what a subject may cost us downstream

# Labels that mailers put in headers but Python does not know, or knows by a narrower name.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",  # GB18030 is a superset; mailers label GBK/GB18030 text as GB2312
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "x-mac-cyrillic": "mac-cyrillic",
    "windows-874": "cp874",
    "unicode-1-1-utf-7": "utf-7",
}
_UNKNOWN_CHARSETS = frozenset({"", "unknown-8bit", "x-unknown", "unknown", "default", "us-ascii", "ascii"})

_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_WHITESPACE = re.compile(r"\s+")


def normalise_charset(label: str | None) -> str | None:
    """Return a Python codec name for a MIME charset label, or None when the label is unusable."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if name in _UNKNOWN_CHARSETS:
        return None
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(
    data: bytes, charset: str | None, fallback_charsets: Sequence[str] = DEFAULT_FALLBACK_CHARSETS
) -> tuple[str, str]:
    """Decode ``data`` with its declared charset, else the first fallback that fits; never raises.

    Returns the text and the codec that produced it. Pure ASCII needs no guess. The last resort
    replaces undecodable bytes, so the result is always a ``str``.
    """
    candidates = [c for c in (normalise_charset(charset), *map(normalise_charset, fallback_charsets)) if c]
    for name in candidates:
        try:
            return data.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace"), "utf-8"


def _undo_surrogates(value: str, fallback_charsets: Sequence[str]) -> str:
    # The stdlib parser smuggles raw 8-bit header bytes through as lone surrogates; recover them as bytes
    # and decode them the way the sender most likely meant.
    if value.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", errors="surrogateescape")
    return decode_bytes(raw, None, fallback_charsets)[0]


def _decode_word_payload(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        try:
            return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
        except (binascii.Error, ValueError):
            return payload.encode("ascii", errors="replace")
    text = payload.replace("_", " ")
    return re.sub(
        rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), text.encode("latin-1", "replace")
    )


def decode_header_text(raw: str, fallback_charsets: Sequence[str] = DEFAULT_FALLBACK_CHARSETS) -> str:
    """Decode a raw header value (possibly with encoded words or 8-bit bytes) into text.

    Adjacent encoded words in the same charset are joined before decoding, because mailers split
    multi-byte characters across them. Whitespace between encoded words is dropped (RFC 2047 §6.2).
    The result may still contain newlines or control characters: see :func:`clean_header_text`.
    """
    value = _undo_surrogates(raw, fallback_charsets)
    # Unfold first: a newline may sit between (or, in broken mail, inside) encoded words.
    value = re.sub(r"\r?\n[ \t]*", " ", value)
    pieces: list[str] = []
    pending: bytearray = bytearray()
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            pieces.append(decode_bytes(bytes(pending), pending_charset, fallback_charsets)[0])
        pending, pending_charset = bytearray(), None

    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and (between.strip() or not pending):
            flush()
            pieces.append(between)
        charset = match.group(1).lower()
        if pending and charset != pending_charset:
            flush()
        pending_charset = charset
        pending += _decode_word_payload(match.group(2), match.group(3))
        position = match.end()
    flush()
    pieces.append(value[position:])
    return "".join(pieces)


def clean_header_text(value: str, *, max_length: int = MAX_HEADER_TEXT) -> str:
    """One line of printable text: CR, LF, tabs and other control characters become spaces, runs of
    whitespace collapse, format characters that reorder text (bidi overrides) are removed, and the result
    is stripped and cut to ``max_length`` characters."""
    without_controls = _CONTROL.sub(" ", value)
    # Bidi overrides make "exe.pdf" look like "fdp.exe" in a ticket list; zero-width joiners are kept.
    # ASCII has no format characters, so most headers skip the per-character check.
    without_format = (
        without_controls
        if without_controls.isascii()
        else "".join(
            ch for ch in without_controls if unicodedata.category(ch) != "Cf" or ch in "\u200c\u200d"
        )
    )
    return _WHITESPACE.sub(" ", without_format).strip()[:max_length]


def decode_header(raw: str, fallback_charsets: Sequence[str] = DEFAULT_FALLBACK_CHARSETS) -> str:
    """Decode and clean a raw header value: the form every inbound subject and display name takes."""
    return clean_header_text(decode_header_text(raw, fallback_charsets))


# --- outbound -------------------------------------------------------------------------------------------


def safe_header_value(value: str, *, max_length: int = 250) -> str:
    """Make untrusted text safe to use as an outgoing header value.

    Guarantees: the result contains no CR, LF or other control character, so it cannot end the header or
    start a new one, whatever the input; it is at most ``max_length`` characters. Encoding non-ASCII text
    and folding long lines is left to :func:`fold_header` (or ``email.policy.SMTP`` when the value is set on
    an ``EmailMessage``).
    """
    return clean_header_text(value, max_length=max_length)


def format_address(name: str, address: str) -> str:
    """Build ``Name <address>`` for To/From/Reply-To from an untrusted display name and an address.

    The name is cleaned like :func:`safe_header_value` and quoted as needed. Raises ``ValueError`` when the
    address itself contains whitespace, control characters or address delimiters, because no escaping
    can make a forged address safe.
    """
    if not address or re.search(r"[\s<>,;\"\\()\[\]\x00-\x1f\x7f]", address) or address.count("@") != 1:
        raise ValueError(f"not a plain mailbox address: {address!r}")
    return str(Address(display_name=safe_header_value(name, max_length=120), addr_spec=address))


def fold_header(name: str, value: str) -> str:
    """Return the complete ``Name: value`` header line(s) as sent on the wire, RFC 2047-encoded and folded
    at 78 columns, ending in CRLF. The value is cleaned first, so the only line breaks are folds."""
    if not re.fullmatch(r"[!-9;-~]+", name):
        raise ValueError(f"invalid header name: {name!r}")
    folded: str = SMTP.fold(name, safe_header_value(value, max_length=MAX_HEADER_TEXT))
    return folded


# --- threading ------------------------------------------------------------------------------------------

# Reply and forward prefixes in the languages our customers write in; `RE[2]:`, `Re(3):`, `Re^2:` counters
# and full-width colons included. Matched repeatedly at the start only.
_PREFIX_WORDS = (
    "re", "fw", "fwd", "aw", "wg", "sv", "vs", "antw", "antwort", "doorst", "tr", "rif", "r", "ref", "rv",
    "enc", "odp", "pd", "ynt", "ilt", "отв", "ответ", "пересл", "переслать", "fwd", "回复", "转发", "答复",
)  # fmt: skip
_PREFIX = re.compile(
    r"^\s*(?:(?:" + "|".join(sorted({re.escape(w) for w in _PREFIX_WORDS}, key=len, reverse=True)) + r")"
    r"\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]\s*)+",
    re.IGNORECASE,
)


def ticket_tag_pattern(prefix: str = "HD") -> re.Pattern[str]:
    """The ``[HD-123]`` tag the help desk puts in outgoing subjects; group 1 is the ticket number."""
    return re.compile(r"\[\s*" + re.escape(prefix) + r"\s*[-#]\s*(\d{1,12})\s*\]", re.IGNORECASE)


def find_ticket_number(subject: str, prefix: str = "HD") -> int | None:
    """The ticket number from the first ``[HD-123]`` tag in ``subject``, or None."""
    match = ticket_tag_pattern(prefix).search(subject)
    return int(match.group(1)) if match else None


def normalize_subject(subject: str, *, tag_prefix: str = "HD") -> str:
    """The subject as a thread key: cleaned, with ``Re:``/``Fwd:``/``AW:``/``Ответ:``/``RE[2]:`` prefixes
    (repeated, in any mix) and ``[HD-123]`` tags removed, whitespace collapsed and case folded."""
    text = clean_header_text(subject)
    previous = None
    while previous != text:
        previous = text
        text = ticket_tag_pattern(tag_prefix).sub(" ", text).strip()
        text = _PREFIX.sub("", text).strip()
    return re.sub(r"\s+", " ", text).casefold()


def references_chain(*values: str | None) -> list[str]:
    """Message-IDs (``<...>``) found in the given References/In-Reply-To values, in order, without repeats."""
    seen: dict[str, None] = {}
    for value in values:
        for message_id in re.findall(r"<[^<>\s]+>", value or ""):
            seen.setdefault(message_id, None)
    return list(seen)
