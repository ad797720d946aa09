"""`helpdesk mail parse FILE --json`: the operator's view of one mail."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from helpdesk.channels.email.cli import mail_group


def test_parse_prints_the_parse_result_as_json(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(
        b"From: Ann <ann@example.com>\r\nTo: help@example.com\r\nSubject: Printer\r\n"
        b"Message-ID: <1@x>\r\nAuto-Submitted: auto-generated\r\n\r\nHello\r\n"
    )

    result = CliRunner().invoke(mail_group, ["parse", str(path), "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["from"] == {"address": "ann@example.com", "name": "Ann"}
    assert data["to"][0]["address"] == "help@example.com"
    assert data["subject"] == "Printer"
    assert data["message_id"] == "<1@x>"
    assert data["reply_text"] == "Hello"
    assert data["flags"]["auto_submitted"] is True
    assert data["flags"]["unparseable"] is False


def test_parse_exits_zero_for_unparseable_mail_with_the_flag_set(tmp_path: Path) -> None:
    path = tmp_path / "m.msg"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)

    result = CliRunner().invoke(mail_group, ["parse", str(path), "--json"])

    assert result.exit_code == 0
    assert json.loads(result.output)["flags"]["unparseable"] is True


def test_parse_exits_two_when_the_file_does_not_exist(tmp_path: Path) -> None:
    result = CliRunner().invoke(mail_group, ["parse", str(tmp_path / "missing.eml"), "--json"])

    assert result.exit_code == 2


def test_attachments_are_listed_without_their_bytes(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(
        b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b'--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf; name="a.pdf"\r\n'
        b"Content-ID: <c1>\r\n\r\n%PDF-1\r\n--b--\r\n"
    )

    result = CliRunner().invoke(mail_group, ["parse", str(path), "--json"])

    [attachment] = json.loads(result.output)["attachments"]
    assert attachment["filename"] == "a.pdf"
    assert attachment["content_id"] == "c1"
    assert "content" not in attachment
