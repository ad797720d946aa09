"""Loop protection: which mails must never get an automatic answer, and which are out-of-office replies."""

from __future__ import annotations

import pytest

from helpdesk.channels.email.loops import (
    classify_auto_reply,
    is_delivery_report,
    is_machine_sender,
    looks_like_bounce,
    parse_delivery_status,
)
from helpdesk.channels.email.parser import parse_message

HUMAN = "ann@example.com"


@pytest.mark.parametrize(
    ("headers", "auto"),
    [
        ([("Auto-Submitted", "auto-generated")], True),
        ([("Auto-Submitted", "auto-replied; vacation")], True),
        ([("Auto-Submitted", "no")], False),
        ([("Precedence", "bulk")], True),
        ([("Precedence", "list")], True),
        ([("Precedence", "junk")], True),
        ([("Precedence", "first-class")], False),
        ([("X-Auto-Response-Suppress", "All")], True),
        ([("X-Autoreply", "yes")], True),
        ([("X-Autorespond", "yes")], True),
        ([("List-Id", "<users.lists.example.com>")], True),
        ([("List-Unsubscribe", "<mailto:u@example.com>")], True),
        ([], False),
    ],
)
def test_auto_submitted_is_decided_from_headers(headers: list[tuple[str, str]], auto: bool) -> None:
    verdict = classify_auto_reply(headers, from_address=HUMAN, subject="Printer")

    assert verdict.auto_submitted is auto
    assert bool(verdict.reasons) is auto


@pytest.mark.parametrize(
    "address",
    ["MAILER-DAEMON@example.com", "postmaster@example.com", "noreply@example.com", "no-reply@example.com",
     "do-not-reply@example.com", "donotreply@example.com"],
)  # fmt: skip
def test_machine_senders_are_never_auto_answered(address: str) -> None:
    assert is_machine_sender(address)
    assert classify_auto_reply([], from_address=address, subject="hi").auto_submitted


def test_a_person_called_noreplyfan_is_not_a_machine() -> None:
    assert not is_machine_sender("noreplyfan@example.com")


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        ("Automatic reply: Printer", [("X-Auto-Response-Suppress", "All")]),  # Exchange
        ("Out of Office: Printer", []),
        ("Re: Printer", [("Auto-Submitted", "auto-replied")]),  # Gmail vacation responder
        ("Out of Office", [("Auto-Submitted", "auto-replied (zimbra; vacation)")]),  # Zimbra
        ("Автоматический ответ: Принтер", []),
        ("Автоответ: Принтер", []),
        ("Abwesenheitsnotiz: Drucker", []),
    ],
)
def test_out_of_office_replies_are_recognised(subject: str, headers: list[tuple[str, str]]) -> None:
    verdict = classify_auto_reply(headers, from_address=HUMAN, subject=subject)

    assert verdict.out_of_office
    assert verdict.auto_submitted


def test_a_bounce_is_not_an_out_of_office_reply_even_with_auto_replied() -> None:
    verdict = classify_auto_reply(
        [("Auto-Submitted", "auto-replied")],
        from_address="MAILER-DAEMON@x.com",
        subject="Undelivered",
        is_bounce=True,
    )

    assert verdict.auto_submitted
    assert not verdict.out_of_office


def test_delivery_reports_are_recognised_by_content_type() -> None:
    assert is_delivery_report("multipart/report", "delivery-status")
    assert is_delivery_report("message/delivery-status", None)
    assert not is_delivery_report("multipart/report", "disposition-notification")


def test_plain_text_bounces_are_recognised_by_sender_and_subject() -> None:
    assert looks_like_bounce("mailer-daemon@googlemail.com", "Delivery Status Notification (Failure)", [])
    assert not looks_like_bounce(HUMAN, "Delivery Status Notification (Failure)", [])
    assert looks_like_bounce(HUMAN, "anything", [("X-Failed-Recipients", "x@example.com")])


def test_delivery_status_blocks_yield_recipients_actions_and_statuses() -> None:
    text = (
        "Reporting-MTA: dns; mx.example.com\n\n"
        "Final-Recipient: rfc822; <a@example.com>\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 no such\n user\n\n"
        "Original-Recipient: rfc822;b@example.com\nAction: delayed\nStatus: 4.4.1 (timeout)\n"
    )

    first, second = parse_delivery_status(text)

    assert (first.address, first.action, first.status) == ("a@example.com", "failed", "5.1.1")
    assert first.diagnostic == "smtp; 550 no such user"
    assert (second.address, second.action, second.status) == ("b@example.com", "delayed", "4.4.1")


def test_the_returned_message_headers_do_not_make_the_bounce_threaded_to_itself() -> None:
    returned = (
        b"From: help@example.com\r\nTo: gone@example.org\r\nSubject: [HD-7] Re: Printer\r\n"
        b"Message-ID: <reply-7@help.example.com>\r\nReferences: <orig@x> <reply-6@help.example.com>\r\n"
        b"Auto-Submitted: auto-replied\r\nPrecedence: bulk\r\n\r\nOur answer\r\n"
    )
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\nTo: help@example.com\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-1@mx.example.org>\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--r\r\nContent-Type: message/rfc822\r\n\r\n" + returned + b"--r--\r\n"
    )

    mail = parse_message(raw)

    assert mail.bounce
    assert mail.auto_submitted
    assert not mail.out_of_office
    assert mail.message_id == "<bounce-1@mx.example.org>"
    assert mail.bounce_report is not None
    assert mail.bounce_report.original_message_id == "<reply-7@help.example.com>"
    assert mail.bounce_report.original_references == ["<orig@x>", "<reply-6@help.example.com>"]
    assert [r.address for r in mail.bounce_report.recipients] == ["gone@example.org"]
    assert mail.reply_text == "Could not deliver."


def test_a_read_receipt_is_machine_made_but_not_a_bounce() -> None:
    raw = (
        b"From: ann@example.com\r\nSubject: Read: Printer\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\n\r\nRead.\r\n--r--\r\n"
    )

    mail = parse_message(raw)

    assert mail.auto_submitted
    assert not mail.bounce
