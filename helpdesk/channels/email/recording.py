"""What an inbound mail leaves behind, written in the same transaction as its ticket message.

:meth:`Recorder.hook` returns the ``within`` hook the ticket service runs before it commits: it marks the
raw row processed (only if it is still pending: a second run rolls back instead of writing twice), maps
the mail's Message-ID to the ticket, records the To/Cc recipients, stores the attachments (inline images
keep their Content-ID) and, for a delivery failure, marks the failed recipients as bouncing.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.channels.email.models import InboundMail, InboundOutcome, InboundRecipient, InboundStatus
from helpdesk.channels.email.parser import ParsedMail
from helpdesk.channels.email.sanitize import text_to_html
from helpdesk.core.errors import DomainError
from helpdesk.core.principal import Principal
from helpdesk.customers.models import Customer
from helpdesk.customers.service import mark_bouncing
from helpdesk.notifications.models import MailReference
from helpdesk.runtime import Runtime
from helpdesk.tickets.attachments import AttachmentService
from helpdesk.tickets.conversation import MessageHook
from helpdesk.tickets.models import Message, Ticket

MAIL_SYSTEM = Principal(name="mail")


def db_text(value: str) -> str:
    """Text every database accepts: lone surrogates (raw 8-bit bytes the parser could not decode, e.g. in an
    address) become "?", and NUL characters (PostgreSQL refuses them in text) are removed."""
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "")


def full_html(mail: ParsedMail) -> str:
    """The whole mail (quoted history included) for the message's HTML view; already sanitised."""
    if mail.body_html:
        return db_text(mail.body_html)
    return text_to_html(db_text(mail.body_text))


def recipients_of(mail: ParsedMail, own_addresses: frozenset[str]) -> list[tuple[str, str, str]]:
    """(address, "to" or "cc", name) of everyone else a mail was addressed to: not the sender, not the help
    desk, each address once."""
    sender = (mail.from_address or "").lower()
    seen: dict[str, tuple[str, str, str]] = {}
    for kind, addresses in (("to", mail.to), ("cc", mail.cc)):
        for mailbox in addresses:
            address = db_text(mailbox.address.lower()[:320])
            if address in seen or address == sender or address in own_addresses:
                continue
            seen[address] = (address, kind, db_text(mailbox.name[:200]))
    return list(seen.values())


class AlreadyProcessed(Exception):
    """Another run committed this mail first; raising it rolls this run's transaction back."""


class Recorder:
    def __init__(
        self,
        runtime: Runtime,
        inbound_id: int,
        mail: ParsedMail,
        customer: Customer | None,
        own_addresses: frozenset[str] = frozenset(),
    ) -> None:
        self.runtime = runtime
        self.inbound_id = inbound_id
        self.mail = mail
        self.customer = customer
        self.own_addresses = own_addresses
        self.notes: list[str] = []
        self.outcome: str | None = None

    def note(self, text: str) -> None:
        """Something a person should know about this mail although it was processed (kept in flag_reason)."""
        self.notes.append(text)

    def full_html(self) -> str:
        """The whole mail (quoted history included) for the message's HTML view; already sanitised."""
        return full_html(self.mail)

    def hook(
        self,
        outcome: InboundOutcome,
        *,
        acknowledged: bool = False,
        matched_ticket_id: int | None = None,
        bounced: bool = False,
    ) -> MessageHook:
        async def record(session: AsyncSession, ticket: Ticket, message: Message) -> None:
            final = outcome
            if matched_ticket_id is not None and ticket.id != matched_ticket_id:
                final = InboundOutcome.FOLLOW_UP
            await self._mark_processed(session, ticket, message, final, acknowledged)
            await self._map_message_id(session, ticket)
            self._add_recipients(session, ticket)
            await self._store_attachments(session, ticket, message)
            if bounced:
                await self._mark_bouncing(session, ticket)
            if self.notes:
                await session.execute(
                    update(InboundMail)
                    .where(InboundMail.id == self.inbound_id)
                    .values(flag_reason="; ".join(self.notes)[:2000])
                )
            self.outcome = final

        return record

    async def _mark_processed(
        self,
        session: AsyncSession,
        ticket: Ticket,
        message: Message,
        outcome: InboundOutcome,
        acknowledged: bool,
    ) -> None:
        result = await session.execute(
            update(InboundMail)
            .where(InboundMail.id == self.inbound_id, InboundMail.status == InboundStatus.PENDING.value)
            .values(
                status=InboundStatus.PROCESSED.value,
                outcome=outcome.value,
                processed_at=self.runtime.clock.now(),
                ticket_id=ticket.id,
                ticket_message_id=message.id,
                from_address=db_text((self.mail.from_address or "").lower()[:320]) or None,
                auto_submitted=self.mail.auto_submitted,
                acknowledged=acknowledged,
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise AlreadyProcessed(self.inbound_id)

    async def _map_message_id(self, session: AsyncSession, ticket: Ticket) -> None:
        message_id = self.mail.message_id
        if not message_id or len(message_id) > 255:
            return
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        await session.execute(
            insert(MailReference)
            .values(message_id=message_id, ticket_id=ticket.id, created_at=self.runtime.clock.now())
            .on_conflict_do_nothing(index_elements=["message_id"])
        )

    def _add_recipients(self, session: AsyncSession, ticket: Ticket) -> None:
        for address, kind, name in recipients_of(self.mail, self.own_addresses):
            session.add(
                InboundRecipient(
                    inbound_mail_id=self.inbound_id,
                    address=address,
                    kind=kind,
                    name=name,
                    ticket_id=ticket.id,
                )
            )

    async def _store_attachments(self, session: AsyncSession, ticket: Ticket, message: Message) -> None:
        service = AttachmentService(self.runtime)
        author = self.customer
        actor = Principal(customer_id=author.id, name=author.name or author.email) if author else MAIL_SYSTEM
        for attachment in self.mail.attachments:
            if attachment.content is None:
                self.note(
                    db_text(f"attachment {attachment.filename!r} not kept: {attachment.skipped_reason}")
                )
                continue
            try:
                await service.attach_in(
                    session,
                    actor,
                    ticket,
                    filename=db_text(attachment.filename),
                    content_type=attachment.content_type,
                    data=attachment.content,
                    message_id=message.id,
                    content_id=attachment.content_id,
                )
            except DomainError as error:  # limits are checked before anything is written
                self.note(db_text(f"attachment {attachment.filename!r} not kept: {error.detail}"))

    async def _mark_bouncing(self, session: AsyncSession, ticket: Ticket) -> None:
        now = self.runtime.clock.now()
        report = self.mail.bounce_report
        addresses = [r.address for r in report.recipients] if report and report.recipients else []
        if not addresses:
            customer = await session.get(Customer, ticket.customer_id)
            addresses = [customer.email] if customer is not None else []
        for address in addresses:
            await mark_bouncing(session, now, address)
