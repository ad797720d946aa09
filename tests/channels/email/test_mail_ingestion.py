"""Inbound mail through the whole pipeline (store, parse, thread, write): tickets, replies, loops, caps."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from mailkit import deliver, inbound, make_mail, messages, outgoing, ticket_of
from sqlalchemy import select

from helpdesk.accounts.principal import Principal, Role
from helpdesk.channels.email.models import InboundRecipient, InboundSource
from helpdesk.channels.email.service import MailService
from helpdesk.customers.models import Customer
from helpdesk.notifications.service import build_email
from helpdesk.tickets.models import Attachment, Ticket
from helpdesk.tickets.schemas import MessageCreate, TicketUpdate
from helpdesk.tickets.service import TicketService

pytestmark = pytest.mark.integration


async def test_a_new_mail_opens_a_ticket_and_is_acknowledged_in_its_thread(runtime) -> None:  # type: ignore[no-untyped-def]
    inbound_id, outcome = await deliver(runtime, make_mail(message_id="<first@mail.example.com>"))

    assert outcome == "new_ticket"
    ticket = await ticket_of(runtime, inbound_id)
    assert (ticket.subject, ticket.channel) == ("Printer jams", "email")
    [message] = await messages(runtime, ticket.id)
    assert message.body_text == "The printer jams on page 2."
    [ack] = await outgoing(runtime, "ticket_acknowledgement")
    assert ack.auto_submitted == "auto-replied"
    assert ack.in_reply_to == "<first@mail.example.com>"
    assert ack.references == "<first@mail.example.com>"
    assert f"[HD-{ticket.id}]" in ack.subject
    assert "/track/" in ack.body_text
    assert "/track/" in ack.body_html
    built = build_email(ack, runtime.settings.mail_from, include_html=True)
    assert built["In-Reply-To"] == "<first@mail.example.com>"
    assert built["Message-ID"] == ack.message_id


async def test_the_same_mail_delivered_twice_creates_one_message(runtime) -> None:  # type: ignore[no-untyped-def]
    raw = make_mail(message_id="<twice@mail.example.com>")
    first_id, _ = await deliver(runtime, raw)
    again = await MailService(runtime).store(raw, InboundSource.IMAP, enqueue=False)
    assert (again.id, again.created) == (first_id, False)
    assert await MailService(runtime).process(first_id) == "skipped"
    ticket = await ticket_of(runtime, first_id)
    assert len(await messages(runtime, ticket.id)) == 1


async def test_mail_without_message_id_is_deduplicated_by_its_content(runtime) -> None:  # type: ignore[no-untyped-def]
    raw = b"From: x@example.com\r\nSubject: no id\r\n\r\nhello\r\n"
    service = MailService(runtime)
    first = await service.store(raw, InboundSource.PIPE, enqueue=False)
    second = await service.store(raw, InboundSource.SMTP, enqueue=False)
    assert first.id == second.id
    assert not second.created
    assert (await inbound(runtime, first.id)).dedupe_key.startswith("sha256:")


async def _open(
    runtime, message_id: str = "<root@mail.example.com>", subject: str = "Printer jams"
) -> Ticket:  # type: ignore[no-untyped-def]
    inbound_id, outcome = await deliver(runtime, make_mail(message_id=message_id, subject=subject))
    assert outcome == "new_ticket"
    return await ticket_of(runtime, inbound_id)


async def test_a_reply_threads_by_in_reply_to_the_acknowledgement(runtime) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open(runtime)
    [ack] = await outgoing(runtime, "ticket_acknowledgement")
    reply = make_mail(
        subject="Something else entirely",
        body="It still jams.\n\nOn Mon, 1 Mar 2027 at 09:00, Help desk <support@helpdesk.localhost> wrote:\n> we have received your request",
        headers={"In-Reply-To": ack.message_id},
    )
    inbound_id, outcome = await deliver(runtime, reply)
    assert outcome == "reply"
    assert (await ticket_of(runtime, inbound_id)).id == ticket.id
    last = (await messages(runtime, ticket.id))[-1]
    assert last.body_text == "It still jams."  # quoted history stripped for the ticket view
    assert "we have received your request" in last.body_html  # the full original stays available
    assert len(await outgoing(runtime, "ticket_acknowledgement")) == 1  # replies are not acknowledged


async def test_a_reply_threads_by_references_to_the_customers_first_mail(runtime) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open(runtime)
    reply = make_mail(
        subject="Other words", headers={"References": "<unknown@elsewhere> <root@mail.example.com>"}
    )
    inbound_id, outcome = await deliver(runtime, reply)
    assert outcome == "reply"
    assert (await ticket_of(runtime, inbound_id)).id == ticket.id


async def test_a_reply_threads_by_the_ticket_tag_in_the_subject(runtime) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open(runtime)
    inbound_id, outcome = await deliver(runtime, make_mail(subject=f"Re: [HD-{ticket.id}] anything"))
    assert outcome == "reply"
    assert (await ticket_of(runtime, inbound_id)).id == ticket.id


async def test_a_stranger_cannot_write_into_a_ticket_by_typing_its_tag(runtime) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open(runtime)
    raw = make_mail(sender="mallory@evil.example", subject=f"[HD-{ticket.id}] give me access")
    inbound_id, outcome = await deliver(runtime, raw)
    assert outcome == "new_ticket"
    assert (await ticket_of(runtime, inbound_id)).id != ticket.id


async def test_a_reply_threads_by_the_fallback_of_sender_and_subject(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open(runtime, subject="VPN drops every hour")
    clock.advance(timedelta(days=3))
    inbound_id, outcome = await deliver(runtime, make_mail(subject="AW: Re: VPN drops every hour"))
    assert outcome == "reply"
    assert (await ticket_of(runtime, inbound_id)).id == ticket.id
    clock.advance(timedelta(days=30))
    _late_id, late = await deliver(runtime, make_mail(subject="Re: VPN drops every hour"))
    assert late == "new_ticket"  # outside the fallback window


async def test_a_customer_reply_reopens_a_pending_ticket(runtime, agent) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open(runtime)
    staff = Principal(user_id=agent.id, role=Role.AGENT, name="Alex")
    await TicketService(runtime).update_ticket(
        staff, ticket.id, TicketUpdate(version=ticket.version, status="pending_customer")
    )
    _, outcome = await deliver(runtime, make_mail(headers={"In-Reply-To": "<root@mail.example.com>"}))
    assert outcome == "reply"
    async with runtime.sessions() as session:
        assert (await session.get(Ticket, ticket.id)).status == "open"


async def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(runtime, agent) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open(runtime)
    staff = Principal(user_id=agent.id, role=Role.AGENT, name="Alex")
    await TicketService(runtime).update_ticket(
        staff, ticket.id, TicketUpdate(version=ticket.version, status="closed")
    )
    inbound_id, outcome = await deliver(
        runtime, make_mail(headers={"In-Reply-To": "<root@mail.example.com>"})
    )
    assert outcome == "follow_up"
    follow_up = await ticket_of(runtime, inbound_id)
    assert follow_up.id != ticket.id
    assert follow_up.previous_ticket_id == ticket.id


async def test_an_agent_reply_goes_out_tagged_and_threaded_to_the_customers_mail(runtime, agent) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open(runtime)
    staff = Principal(user_id=agent.id, role=Role.AGENT, name="Alex")
    await TicketService(runtime).add_message(staff, ticket.id, MessageCreate(body="Try a new cartridge."))
    [reply] = await outgoing(runtime, "agent_reply")
    [ack] = await outgoing(runtime, "ticket_acknowledgement")
    assert reply.subject == f"Re: [HD-{ticket.id}] Printer jams"
    assert reply.auto_submitted is None
    assert reply.in_reply_to == "<root@mail.example.com>"
    assert reply.references == f"<root@mail.example.com> {ack.message_id}"


async def test_an_out_of_office_reply_is_kept_on_its_ticket_never_answered_and_does_not_reopen(
    runtime, agent
) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open(runtime)
    staff = Principal(user_id=agent.id, role=Role.AGENT, name="Alex")
    await TicketService(runtime).update_ticket(
        staff, ticket.id, TicketUpdate(version=ticket.version, status="pending_customer")
    )
    ooo = make_mail(
        subject="Automatic reply: Printer jams",
        body="I am out of the office until Monday.",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": "<root@mail.example.com>"},
    )
    inbound_id, outcome = await deliver(runtime, ooo)
    assert outcome == "auto_reply"
    assert (await inbound(runtime, inbound_id)).auto_submitted
    async with runtime.sessions() as session:
        assert (await session.get(Ticket, ticket.id)).status == "pending_customer"
    assert (await messages(runtime, ticket.id))[-1].kind == "internal_note"
    assert len(await outgoing(runtime, "ticket_acknowledgement")) == 1


async def test_machine_mail_opens_a_ticket_but_is_never_acknowledged(runtime) -> None:  # type: ignore[no-untyped-def]
    for headers in (
        {"Auto-Submitted": "auto-generated"},
        {"Precedence": "bulk"},
        {"List-Id": "<ops.example>"},
    ):
        _, outcome = await deliver(runtime, make_mail(subject=f"Alert {headers}", headers=headers))
        assert outcome == "new_ticket"
    _, outcome = await deliver(runtime, make_mail(sender="noreply@shop.example", subject="Your order"))
    assert outcome == "new_ticket"
    assert await outgoing(runtime, "ticket_acknowledgement") == []


async def test_an_out_of_office_reply_to_nothing_is_flagged(runtime) -> None:  # type: ignore[no-untyped-def]
    raw = make_mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"})
    inbound_id, outcome = await deliver(runtime, raw)
    assert outcome == "flagged"
    assert "no known ticket" in (await inbound(runtime, inbound_id)).flag_reason


def _bounce(original_id: str, recipient: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "To: support@helpdesk.localhost\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.com>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--B\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: support@helpdesk.localhost\r\nTo: {recipient}\r\nMessage-ID: {original_id}\r\n"
        "Subject: [HD-1] Printer jams\r\n\r\nwe have received your request\r\n--B--\r\n"
    ).encode()


async def test_a_bounce_marks_the_customer_bouncing_and_attaches_without_reopening(runtime, agent) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open(runtime)
    staff = Principal(user_id=agent.id, role=Role.AGENT, name="Alex")
    await TicketService(runtime).update_ticket(
        staff, ticket.id, TicketUpdate(version=ticket.version, status="resolved")
    )
    [ack] = await outgoing(runtime, "ticket_acknowledgement")
    inbound_id, outcome = await deliver(runtime, _bounce(ack.message_id, "anna@example.com"))
    assert outcome == "bounce"
    assert (await ticket_of(runtime, inbound_id)).id == ticket.id
    async with runtime.sessions() as session:
        assert (await session.get(Ticket, ticket.id)).status == "resolved"
        customer = await session.scalar(select(Customer).where(Customer.email == "anna@example.com"))
    assert customer.bouncing_since is not None
    assert (await messages(runtime, ticket.id))[-1].kind == "internal_note"
    assert len(await outgoing(runtime)) == 1  # the bounce itself is never answered


async def test_a_bounce_for_an_unknown_message_is_flagged_not_lost(runtime) -> None:  # type: ignore[no-untyped-def]
    inbound_id, outcome = await deliver(
        runtime, _bounce("<never-sent@helpdesk.localhost>", "zed@example.com")
    )
    assert outcome == "flagged"
    assert "does not know" in (await inbound(runtime, inbound_id)).flag_reason


async def test_over_the_auto_reply_cap_tickets_open_unanswered_and_over_the_ticket_cap_mail_is_flagged(
    make_client,
) -> None:  # type: ignore[no-untyped-def]
    async with make_client(mail_auto_reply_cap=2, mail_new_ticket_cap_per_day=3) as (_, runtime):
        delivered = [await deliver(runtime, make_mail(subject=f"Problem {n}")) for n in range(5)]
        assert [outcome for _, outcome in delivered] == ["new_ticket"] * 3 + ["flagged"] * 2
        assert len(await outgoing(runtime, "ticket_acknowledgement")) == 2
        rows = [await inbound(runtime, inbound_id) for inbound_id, _ in delivered]
        assert "not acknowledged" in (rows[2].flag_reason or "")
        assert all(r.raw for r in rows)  # over a cap the mail is still stored
        assert "cap of 3 new tickets" in (rows[4].flag_reason or "")


async def test_header_injection_in_a_subject_or_name_never_reaches_an_outgoing_header(runtime) -> None:  # type: ignore[no-untyped-def]
    raw = (
        b'From: "Eve\r\n =?utf-8?q?=0D=0ABcc=3A_victim=40example=2Ecom?=" <eve@example.com>\r\n'
        b"To: support@helpdesk.localhost\r\nMessage-ID: <inject@example.com>\r\n"
        b"Subject: =?utf-8?q?Hello=0D=0ABcc=3A_victim=40example=2Ecom=0D=0A=0D=0Abody?=\r\n\r\nhi\r\n"
    )
    _inbound_id, outcome = await deliver(runtime, raw)
    assert outcome == "new_ticket"
    [ack] = await outgoing(runtime, "ticket_acknowledgement")
    wire = bytes(build_email(ack, runtime.settings.mail_from, include_html=True))
    header_block = wire.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in wire else wire.split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in header_block
    assert b"\rBcc:" not in header_block
    assert "\n" not in ack.subject
    assert "\r" not in ack.subject


async def test_unparseable_input_is_stored_raw_and_flagged_with_the_reason(runtime) -> None:  # type: ignore[no-untyped-def]
    inbound_id, outcome = await deliver(runtime, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert outcome == "flagged"
    row = await inbound(runtime, inbound_id)
    assert "Outlook" in row.flag_reason
    assert row.raw.startswith(b"\xd0\xcf")


async def test_attachments_are_stored_on_the_message_and_inline_images_keep_their_content_id(runtime) -> None:  # type: ignore[no-untyped-def]
    raw = make_mail(
        html='<p>see <img src="cid:logo@x"></p>',
        attachments=[
            {"data": b"%PDF-1.4 report", "filename": "report.pdf", "subtype": "pdf"},
            {"data": b"\x89PNG fake", "filename": "logo.png", "maintype": "image", "subtype": "png",
             "cid": "<logo@x>", "disposition": "inline"},
        ],
    )  # fmt: skip
    inbound_id, outcome = await deliver(runtime, raw)
    assert outcome == "new_ticket"
    row = await inbound(runtime, inbound_id)
    async with runtime.sessions() as session:
        files = list(await session.scalars(select(Attachment).where(Attachment.ticket_id == row.ticket_id)))
    assert {(f.filename, f.message_id, f.content_id) for f in files} == {
        ("report.pdf", row.ticket_message_id, None),
        ("logo.png", row.ticket_message_id, "logo@x"),
    }


async def test_cc_addresses_are_recorded_and_a_copied_colleague_reply_is_kept_on_the_ticket(runtime) -> None:  # type: ignore[no-untyped-def]
    raw = make_mail(message_id="<cc-root@mail.example.com>", headers={"Cc": "Boris <boris@other.example>"})
    inbound_id, _ = await deliver(runtime, raw)
    ticket = await ticket_of(runtime, inbound_id)
    async with runtime.sessions() as session:
        recipients = list(
            await session.scalars(select(InboundRecipient).where(InboundRecipient.ticket_id == ticket.id))
        )
    assert {(r.address, r.kind) for r in recipients} == {("boris@other.example", "cc")}
    reply = make_mail(sender="boris@other.example", headers={"In-Reply-To": "<cc-root@mail.example.com>"})
    reply_id, outcome = await deliver(runtime, reply)
    assert outcome == "reply"
    assert (await ticket_of(runtime, reply_id)).id == ticket.id


async def test_own_outgoing_mail_coming_back_is_flagged_as_a_loop(runtime) -> None:  # type: ignore[no-untyped-def]
    await _open(runtime)
    [ack] = await outgoing(runtime, "ticket_acknowledgement")
    wire = bytes(build_email(ack, "Other <other@example.com>"))
    inbound_id, outcome = await deliver(runtime, wire)
    assert outcome == "flagged"
    assert "loop" in (await inbound(runtime, inbound_id)).flag_reason
    _, outcome = await deliver(runtime, make_mail(sender="support@helpdesk.localhost", subject="x"))
    assert outcome == "flagged"


async def test_a_russian_customer_is_acknowledged_in_russian(runtime) -> None:  # type: ignore[no-untyped-def]
    from helpdesk.customers.schemas import CustomerCreate
    from helpdesk.customers.service import CustomerService

    await CustomerService(runtime).create_customer(
        CustomerCreate(email="ivan@example.ru", name="Иван", language="ru")
    )
    await deliver(runtime, make_mail(sender="ivan@example.ru", subject="Не печатает принтер"))
    [ack] = await outgoing(runtime, "ticket_acknowledgement")
    assert "Мы получили ваше обращение" in ack.body_text
    assert msgspec.json.encode(ack.subject).decode().count("Не печатает принтер") == 1
