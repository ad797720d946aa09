"""Many stored mails processed in one batch: nothing lost, nothing doubled, a bad mail flagged alone."""

from __future__ import annotations

import pytest
from mailkit import inbound, make_mail, messages, ticket_of
from sqlalchemy import func, select

from helpdesk.channels.email import service as mail_service
from helpdesk.channels.email.models import InboundSource
from helpdesk.channels.email.routing import decide
from helpdesk.channels.email.service import MailService
from helpdesk.customers.models import Customer
from helpdesk.tickets.models import Ticket

pytestmark = pytest.mark.integration


async def test_a_batch_with_an_unparseable_mail_and_a_duplicate_processes_everything_else_once(
    runtime,
) -> None:  # type: ignore[no-untyped-def]
    service = MailService(runtime)
    first = make_mail(message_id="<b1@mail.example.com>", subject="Printer jams")
    reply = make_mail(message_id="<b2@mail.example.com>", subject="Re: Printer jams", body="Still jammed.",
                      headers={"In-Reply-To": "<b1@mail.example.com>"})  # fmt: skip
    other = make_mail(sender="Boris <boris@example.org>", message_id="<b3@mail.example.org>", subject="VPN")
    raws = [first, b"PK\x03\x04 not a mail at all", reply, first, other]
    stored = [await service.store(raw, InboundSource.PIPE, enqueue=False) for raw in raws]
    ids = [s.id for s in stored]
    assert ids[3] == ids[0]  # the duplicate is the first row again
    assert not stored[3].created

    outcomes = await service.process_batch(ids)
    again = await service.process_batch(ids)

    assert outcomes == {ids[0]: "new_ticket", ids[1]: "flagged", ids[2]: "reply", ids[4]: "new_ticket"}
    assert set(again.values()) == {"skipped"}
    assert "unparseable" in ((await inbound(runtime, ids[1])).flag_reason or "")
    ticket = await ticket_of(runtime, ids[0])
    assert (await ticket_of(runtime, ids[2])).id == ticket.id  # threaded within the batch
    assert [m.body_text for m in await messages(runtime, ticket.id)] == ["The printer jams on page 2.",
                                                                       "Still jammed."]  # fmt: skip
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 2
        assert await session.scalar(select(func.count()).select_from(Customer)) == 2


async def test_a_mail_that_fails_in_a_batch_is_recorded_for_retry_and_the_others_commit(
    runtime, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    service = MailService(runtime)
    good = await service.store(
        make_mail(message_id="<g1@mail.example.com>"), InboundSource.PIPE, enqueue=False
    )
    bad = await service.store(make_mail(message_id="<g2@mail.example.com>", subject="Boom"), InboundSource.PIPE,
                              enqueue=False)  # fmt: skip

    def failing_decide(item, *args):  # type: ignore[no-untyped-def]
        if item.mail.subject == "Boom":
            raise RuntimeError("disk on fire")
        return decide(item, *args)

    original = service.tickets.open_in

    async def failing_open_in(session, principal, data, **kwargs):  # type: ignore[no-untyped-def]
        if data.subject == "Boom":
            raise RuntimeError("disk on fire")
        return await original(session, principal, data, **kwargs)

    # Deciding fails in the batch, so the mail goes one by one, and fails there too.
    monkeypatch.setattr(mail_service, "decide", failing_decide)
    service.tickets.open_in = failing_open_in  # type: ignore[method-assign]
    outcomes = await service.process_batch([good.id, bad.id])

    assert outcomes == {good.id: "new_ticket", bad.id: "retry"}
    row = await inbound(runtime, bad.id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "disk on fire" in (row.flag_reason or "")
    service.tickets.open_in = original  # type: ignore[method-assign]
    assert await service.process(bad.id) == "new_ticket"
    assert (await ticket_of(runtime, good.id)).id != (await ticket_of(runtime, bad.id)).id
