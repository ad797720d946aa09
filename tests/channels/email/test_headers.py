"""Header values in and out: decoding, header-injection-proof outgoing values, subject normalisation."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.channels.email.headers import (
    clean_header_text,
    decode_header,
    find_ticket_number,
    fold_header,
    format_address,
    normalize_subject,
    safe_header_value,
)


@pytest.mark.parametrize(
    ("subject", "normalised"),
    [
        ("Re: Printer", "printer"),
        ("RE: Fwd: AW: Printer", "printer"),
        ("Re[2]: Printer", "printer"),
        ("RE(3): Printer", "printer"),
        ("Ответ: Принтер", "принтер"),
        ("Re: [HD-123] Printer", "printer"),
        ("[HD-123] Re: Fw: Printer", "printer"),
        ("WG: SV: Printer", "printer"),
        ("Printer: Re: broken", "printer: re: broken"),
        ("  Re:   Printer   broken ", "printer broken"),
    ],
)
def test_subjects_normalise_to_a_thread_key(subject: str, normalised: str) -> None:
    assert normalize_subject(subject) == normalised


def test_the_ticket_number_is_found_in_the_tag() -> None:
    assert find_ticket_number("Re: [HD-123] Printer") == 123
    assert find_ticket_number("Printer 123") is None


@pytest.mark.parametrize(
    "evil",
    [
        "Hello\r\nBcc: victim@example.com",
        "Hello\nBcc: victim@example.com",
        "Hello\rBcc: victim@example.com",
        "Hello\x00\x0b\x0c\x85Bcc: x",
        "Hello\u2028Bcc: x",
    ],
)
def test_outgoing_values_cannot_inject_headers(evil: str) -> None:
    value = safe_header_value(evil)
    folded = fold_header("Subject", evil)

    assert "\r" not in value
    assert "\n" not in value
    assert folded.count("\r\n") >= 1
    assert all(line.startswith((" ", "\t")) for line in folded.split("\r\n")[1:-1])
    message = email.message_from_string(folded + "\r\nbody", policy=policy.SMTP)
    assert message["Bcc"] is None


@given(st.text())
def test_safe_header_values_never_contain_line_breaks_for_any_input(text: str) -> None:
    value = safe_header_value(text)

    assert not any(ch in value for ch in "\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def test_a_display_name_with_injection_is_cleaned_and_the_message_stays_intact() -> None:
    message = EmailMessage()
    message["To"] = format_address('Ann"\r\nBcc: victim@example.com', "ann@example.com")
    message["Subject"] = safe_header_value("Re: \r\nBcc: x@example.com")
    message.set_content("hi")

    reparsed = email.message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)

    assert reparsed["Bcc"] is None
    assert reparsed["To"].addresses[0].addr_spec == "ann@example.com"


@pytest.mark.parametrize(
    "address", ["a@b.com\r\nBcc: x@y", "a b@c.com", "<a@b.com>", "a@b.com,c@d.com", "nobody"]
)
def test_forged_addresses_are_refused(address: str) -> None:
    with pytest.raises(ValueError, match="not a plain mailbox"):
        format_address("Ann", address)


def test_non_ascii_values_are_encoded_and_folded() -> None:
    folded = fold_header("Subject", "Принтер не печатает " * 10)

    assert folded.isascii()
    assert all(len(line) <= 78 for line in folded.split("\r\n"))
    assert decode_header(folded.split(":", 1)[1]) == ("Принтер не печатает " * 10).strip()


def test_bidi_overrides_are_removed_from_decoded_text() -> None:
    assert clean_header_text("invoice\u202egpj.exe") == "invoicegpj.exe"


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("=?koi8-r?B?4czGwdfJ1Ao=?=", "Алфавит"),
        ("=?windows-1251?Q?=CF=F0=E8=E2=E5=F2?=", "Привет"),
        ("=?utf-8?q?a_b?= =?utf-8?q?c?=", "a bc"),
        ("plain =?utf-8?b?0KA=?= text", "plain Р text"),
        ("=?bogus-charset?B?SGk=?=", "Hi"),
        ("=?utf-8?B?broken base64?=", "=?utf-8?B?broken base64?="),
    ],
)
def test_encoded_words_decode(raw: str, decoded: str) -> None:
    assert decode_header(raw) == decoded
