"""parse_message on hostile and broken input: it never raises, caps cost, and says what it repaired."""

from __future__ import annotations

import base64
import io
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime

import pytest

from helpdesk.channels.email.parser import parse_message


def _mail(headers: str, body: bytes = b"Hello\r\n") -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


BASIC = "From: Ann <ann@example.com>\nTo: help@example.com\nSubject: Printer\nMessage-ID: <1@example.com>\n"


def test_a_plain_message_yields_addresses_ids_date_and_body() -> None:
    raw = _mail(BASIC + "Date: Mon, 9 Jul 2012 22:37:56 -0700\nReferences: <a@x> <b@x>\nIn-Reply-To: <b@x>\n")

    mail = parse_message(raw)

    assert (mail.from_address, mail.from_name, mail.subject) == ("ann@example.com", "Ann", "Printer")
    assert [a.address for a in mail.to] == ["help@example.com"]
    assert (mail.message_id, mail.in_reply_to, mail.references) == (
        "<1@example.com>",
        "<b@x>",
        ["<a@x>", "<b@x>"],
    )
    assert mail.date == datetime(2012, 7, 10, 5, 37, 56, tzinfo=UTC)
    assert mail.body_text == "Hello\n"
    assert not (mail.auto_submitted)
    assert not (mail.bounce)
    assert not (mail.unparseable)


def test_a_multipart_without_its_boundary_is_read_as_text_with_a_defect() -> None:
    raw = _mail(
        BASIC + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="nowhere"\n', b"just text\r\n"
    )

    mail = parse_message(raw)

    assert not mail.unparseable
    assert "just text" in mail.body_text
    assert mail.defects


def test_a_multipart_with_no_boundary_parameter_does_not_raise() -> None:
    raw = _mail(BASIC + "MIME-Version: 1.0\nContent-Type: multipart/alternative\n", b"--x\r\nbody\r\n")

    mail = parse_message(raw)

    assert not mail.unparseable
    assert any("boundary" in d for d in mail.defects)


def test_eight_bit_garbage_in_headers_and_body_decodes_through_the_fallback_charsets() -> None:
    raw = (
        b"From: \xc8\xe2\xe0\xed <ivan@example.ru>\r\nSubject: \xcf\xf0\xe8\xed\xf2\xe5\xf0\r\n"
        b"Content-Type: text/plain\r\n\r\n\xcf\xf0\xe8\xe2\xe5\xf2 \xff\xfe\x00\x01\r\n"
    )

    mail = parse_message(raw)

    assert mail.from_name == "Иван"
    assert mail.subject == "Принтер"
    assert mail.body_text.startswith("Привет")


def test_a_declared_charset_that_does_not_fit_falls_back_and_is_reported() -> None:
    raw = _mail(BASIC + "Content-Type: text/plain; charset=utf-8\n", "Привет".encode("windows-1251"))

    mail = parse_message(raw)

    assert mail.body_text.strip() == "Привет"
    assert any("did not fit" in d for d in mail.defects)


def test_an_unknown_charset_label_does_not_raise() -> None:
    raw = _mail(BASIC + "Content-Type: text/plain; charset=x-klingon\n", b"qapla\r\n")

    assert parse_message(raw).body_text.strip() == "qapla"


def test_rfc2047_subjects_split_inside_a_multibyte_character_are_joined() -> None:
    word = "Привет".encode()
    first, second = base64.b64encode(word[:5]).decode(), base64.b64encode(word[5:]).decode()
    raw = _mail(f"From: a@example.com\nSubject: =?UTF-8?B?{first}?=\n =?UTF-8?B?{second}?=\n")

    assert parse_message(raw).subject == "Привет"


def test_iso_2022_jp_and_gb2312_headers_decode() -> None:
    jp = "=?ISO-2022-JP?B?GyRCJEskTyQ3JEEkTxsoQg==?="
    gb = "=?GB2312?B?xOO6ww==?="
    raw = _mail(f"From: {gb} <li@example.cn>\nSubject: {jp}\n")

    mail = parse_message(raw)

    assert mail.subject == "にはしちは"
    assert mail.from_name == "你好"


def test_ten_thousand_parts_stop_at_the_cap_quickly_and_are_flagged() -> None:
    part = b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    raw = _mail(
        BASIC + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n',
        part * 10_000 + b"--b--\r\n",
    )

    started = time.perf_counter()
    mail = parse_message(raw, max_parts=500)
    elapsed = time.perf_counter() - started

    assert mail.truncated
    assert any("500 MIME parts" in d for d in mail.defects)
    assert elapsed < 10
    assert mail.body_text.strip() == "x"


def test_deeply_nested_multiparts_do_not_exhaust_recursion() -> None:
    depth = 200
    opening = b"".join(
        f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'.encode() for i in range(depth)
    )
    closing = b"".join(f"--b{i}--\r\n".encode() for i in reversed(range(depth)))
    raw = _mail(
        BASIC + 'Content-Type: multipart/mixed; boundary="b0"\n', opening + b"--b200\r\n\r\nhi\r\n" + closing
    )

    mail = parse_message(raw)

    assert mail.truncated or mail.unparseable


@pytest.mark.slow
def test_a_fifty_megabyte_attachment_is_listed_but_not_kept_and_memory_stays_sane() -> None:
    line = base64.b64encode(b"\x00" * 57) + b"\r\n"  # 76 characters, like real encoders write
    lines = 50 * 1024 * 1024 // 57 + 1
    body = (
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="big.bin"\r\n\r\n' + line * lines + b"--b--\r\n"
    )
    raw = _mail(BASIC + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n', body)

    tracemalloc.start()
    try:
        mail = parse_message(raw, max_attachment_bytes=10 * 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    [attachment] = mail.attachments
    assert attachment.content is None
    assert attachment.size >= 50 * 1024 * 1024
    assert attachment.skipped_reason is not None
    assert "cap" in attachment.skipped_reason
    assert mail.body_text.strip() == "see attached"
    # The raw message is ~68 MB; the parser may copy it a few times but must never decode the 50 MB payload.
    assert peak < 8 * len(raw)


def test_a_zip_bomb_is_stored_as_an_opaque_blob_and_never_inflated() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.txt", b"\x00" * (20 * 1024 * 1024))  # inflates to 20 MB, compresses to ~20 kB
    blob = buffer.getvalue()
    encoded = base64.encodebytes(blob).replace(b"\n", b"\r\n")
    body = (
        b'--b\r\nContent-Type: application/zip; name="bomb.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + encoded + b"--b--\r\n"
    )  # fmt: skip
    raw = _mail(BASIC + 'Content-Type: multipart/mixed; boundary="b"\n', body)

    kept = parse_message(raw, max_attachment_bytes=1024 * 1024)
    capped = parse_message(raw, max_attachment_bytes=len(blob) // 2)

    [attachment] = kept.attachments
    assert attachment.content == blob
    assert attachment.size == len(blob)
    assert attachment.filename == "bomb.zip"
    [refused] = capped.attachments
    assert refused.content is None
    assert refused.skipped_reason is not None


def test_inline_images_keep_their_content_id_and_hash() -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    body = (
        b"--b\r\nContent-Type: text/html\r\n\r\n<p>see <img src=\"cid:logo@x\"><img src=\"http://t.example/p.gif\"></p>\r\n"
        b"--b\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(png) + b"\r\n--b--\r\n"
    )  # fmt: skip
    raw = _mail(BASIC + 'Content-Type: multipart/related; boundary="b"\n', body)

    mail = parse_message(raw)

    [image] = mail.attachments
    assert (image.content_id, image.inline, image.content, image.size) == ("logo@x", True, png, len(png))
    assert mail.body_html is not None
    assert 'src="cid:logo@x"' in mail.body_html
    assert "t.example" not in mail.body_html
    assert mail.body_text == "see"


@pytest.mark.parametrize(
    "raw",
    [
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
        b"",
        b"\x00\x01\x02\x03binary" * 100,
    ],
    ids=["outlook-msg", "empty", "binary"],
)
def test_binary_input_is_refused_cleanly(raw: bytes) -> None:
    mail = parse_message(raw)

    assert mail.unparseable
    assert mail.defects
    assert mail.defects[0]


@pytest.mark.parametrize(
    "subject",
    [
        "Hello\r\nBcc: victim@example.com",
        "=?UTF-8?B?SGVsbG8NCkJjYzogdmljdGltQGV4YW1wbGUuY29t?=",
        "=?UTF-8?Q?Hello=0ABcc:_victim@example.com?=",
    ],
)
def test_decoded_subjects_and_names_never_contain_line_breaks(subject: str) -> None:
    name = "=?UTF-8?B?QW5uDQpYLUV2aWw6IDE=?="  # "Ann\r\nX-Evil: 1"
    raw = _mail(f"From: {name} <ann@example.com>\nSubject: {subject}\n")

    mail = parse_message(raw)

    assert "\n" not in mail.subject
    assert "\r" not in mail.subject
    assert "\n" not in mail.from_name
    assert "\r" not in mail.from_name
    assert mail.from_name == "Ann X-Evil: 1"


def test_an_attached_message_is_kept_as_eml_and_its_body_is_only_a_fallback() -> None:
    inner = b"From: bob@example.com\r\nSubject: inner\r\nMessage-ID: <inner@x>\r\n\r\ninner body\r\n"
    body = b"--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"--b--\r\n"
    raw = _mail(BASIC + 'Content-Type: multipart/mixed; boundary="b"\n', body)

    mail = parse_message(raw)

    [attached] = mail.attachments
    assert attached.content_type == "message/rfc822"
    assert attached.content is not None
    assert b"inner body" in attached.content
    assert mail.body_text.strip() == "inner body"
    assert mail.message_id == "<1@example.com>"


def test_a_text_without_headers_is_read_as_a_body_with_a_defect() -> None:
    mail = parse_message(b"Just some words\nand more words\n")

    assert not mail.unparseable
    assert "Just some words" in mail.body_text
    assert mail.defects


def test_an_html_only_mail_gets_text_derived_from_html_and_a_reply_without_quote() -> None:
    html = b'<div>Fixed, thanks</div><div class="gmail_quote">On Mon, Ann wrote:<blockquote>old</blockquote></div>'
    raw = _mail(BASIC + "Content-Type: text/html; charset=utf-8\n", html)

    mail = parse_message(raw)

    assert "Fixed, thanks" in mail.body_text
    assert mail.reply_text == "Fixed, thanks"


def test_a_date_without_zone_is_utc_and_a_broken_date_is_none_with_a_defect() -> None:
    assert parse_message(_mail(BASIC + "Date: Mon, 9 Jul 2012 22:37:56 -0000\n")).date == datetime(
        2012, 7, 9, 22, 37, 56, tzinfo=UTC
    )
    broken = parse_message(_mail(BASIC + "Date: yesterday-ish\n"))
    assert broken.date is None
    assert any("Date" in d for d in broken.defects)


def test_a_path_in_an_attachment_filename_is_reduced_to_its_last_component() -> None:
    body = b'--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="../../etc/passwd"\r\n\r\nx\r\n--b--\r\n'
    raw = _mail(BASIC + 'Content-Type: multipart/mixed; boundary="b"\n', body)

    assert parse_message(raw).attachments[0].filename == "passwd"
