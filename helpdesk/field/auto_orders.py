"""The tag rule: a ticket tagged with one of ``HELPDESK_FIELD_ORDER_TAGS`` (e.g. ``onsite``) gets an
unscheduled work order by itself (``dispatch.auto_orders``), whether the tag came with the ticket or later.

How the tag is noticed: when a runtime starts with the rule on, :func:`watch_order_tags` marks the runtime's
sessions, and a ``before_flush`` hook adds an outbox row for ``create_tagged_work_order_job(ticket_id)``
whenever such a session inserts a ``ticket_tag`` row with one of the tags. The row commits with the tag,
so the job runs after commit (and never for a tag that was rolled back), whichever code path set the tag:
the ticket service, the API, the agent's pages. The job decides again from what is stored, so running it
twice, or setting the tag again, changes nothing.

Only tags that staff set count (an agent or admin on a page, an integration with a staff user's token): a
customer may send tags with a new request, and those must not send a technician. The hook cannot tell who set a
tag, so the job reads it from the ticket's audit trail (``helpdesk.field.tag_setters``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from dispatch.auto_orders import RULE_ACTOR, TaggedOrderService
from dispatch.rules import TaggedOrderDecision, TaggedOrderOutcome
from helpdesk.core.clock import Clock
from helpdesk.core.db import transaction
from helpdesk.core.outbox import OutboxEvent
from helpdesk.core.settings import Settings
from helpdesk.field.tag_setters import (
    OPENED,
    TAGS_CHANGED,
    TagChange,
    refusal_of_unstaffed_tags,
    staff_set_tags,
    tag_change,
)
from helpdesk.field.tickets import ticket_facts_of
from helpdesk.runtime import Runtime
from helpdesk.tickets import audit
from helpdesk.tickets.models import AuditEvent, Ticket, TicketTag
from helpdesk.tickets.rules import normalise_tags
from helpdesk.tickets.service import TicketService

log = logging.getLogger(__name__)

JOB = "create_tagged_work_order_job"
# The ticket audit field of the rule's decisions.
AUDIT_FIELD = "work_order_rule"
# The job's outcome for a ticket whose rule tag a customer (or anyone but staff) set.
NOT_STAFF_TAG = "not_staff_tag"
# ``Session.info`` key under which a runtime's sessions carry the rule (absent: the rule is off).
WATCH_KEY = "helpdesk.field.order_tags"


@dataclass(frozen=True, slots=True)
class OrderTagRule:
    tags: frozenset[str]
    duration_minutes: int


@dataclass(frozen=True, slots=True)
class _Watch:
    tags: frozenset[str]
    clock: Clock


def order_tag_rule(settings: Settings) -> OrderTagRule:
    """The rule from ``HELPDESK_FIELD_ORDER_TAGS`` (comma-separated, compared as tickets store tags: trimmed,
    lower case) and ``HELPDESK_FIELD_ORDER_DURATION_MINUTES`` (checked by ``Settings``)."""
    tags = frozenset(normalise_tags(settings.field_order_tags.split(",")))
    return OrderTagRule(tags, settings.field_order_duration_minutes)


def watch_order_tags(runtime: Runtime) -> None:
    """Turn the rule on for ``runtime``'s sessions when tags are configured (called once at start-up)."""
    rule = order_tag_rule(runtime.settings)
    if not rule.tags:
        return
    info = dict(runtime.sessions.kw.get("info") or {})
    info[WATCH_KEY] = _Watch(rule.tags, runtime.clock)
    runtime.sessions.configure(info=info)
    if not event.contains(Session, "before_flush", _queue_for_new_tags):
        event.listen(Session, "before_flush", _queue_for_new_tags)


def _queue_for_new_tags(session: Session, _flush_context: Any, _instances: Any) -> None:
    watch = session.info.get(WATCH_KEY)
    if not isinstance(watch, _Watch):
        return
    ticket_ids = {o.ticket_id for o in session.new if isinstance(o, TicketTag) and o.tag in watch.tags}
    for ticket_id in sorted(ticket_ids):
        session.add(OutboxEvent(job=JOB, args=[ticket_id], created_at=watch.clock.now()))


async def create_tagged_work_order_job(ctx: dict[str, Any], ticket_id: int) -> str:
    """Apply the tag rule to one ticket (see :func:`apply_order_tag_rule`); returns the outcome."""
    return await apply_order_tag_rule(ctx["runtime"], ticket_id)


async def apply_order_tag_rule(runtime: Runtime, ticket_id: int) -> str:
    """Give the ticket its work order if the rule says so, audited on the ticket (its creation and warranty
    decision also as notes, like a manual one); when the site is not known, say why once, in the audit
    trail and an internal note, so an agent makes it by hand. A rule tag that no staff member set makes no
    work order; the audit trail says so once. Returns the outcome (``TaggedOrderOutcome``, ``not_staff_tag``,
    or ``gone`` for a deleted ticket)."""
    rule = order_tag_rule(runtime.settings)
    service = TaggedOrderService(runtime)
    async with runtime.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None:
            return "gone"
        tags = (await session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id))).all()
        changes = await tag_changes(session, ticket_id)
        facts = await ticket_facts_of(session, ticket)
    staff_tags = staff_set_tags(tags, changes)
    decision = await service.decide(facts, sorted(staff_tags), rule.tags)
    if decision.outcome == TaggedOrderOutcome.NOT_TAGGED:
        refused = refusal_of_unstaffed_tags(tags, changes, rule.tags)
        if refused is not None:
            await _audit_once(runtime, ticket_id, refused)
            return NOT_STAFF_TAG
    now = runtime.clock.now()
    if decision.outcome in (TaggedOrderOutcome.NO_SITE, TaggedOrderOutcome.SEVERAL_SITES):
        await _record_refusal(runtime, ticket_id, decision)
    if decision.outcome != TaggedOrderOutcome.CREATE:
        return str(decision.outcome)
    new = await service.prepare(facts, decision, rule.duration_minutes, now)
    async with transaction(runtime.sessions) as session:
        # Two runs for one ticket queue here; the second finds the first's work order.
        await session.get(Ticket, ticket_id, with_for_update=True)
        row = await service.add_in(session, now, new, decision)
        if row is None:
            return str(TaggedOrderOutcome.HAS_ORDER)
        audit.record(
            session,
            now,
            RULE_ACTOR,
            ticket_id=ticket_id,
            field=AUDIT_FIELD,
            old=None,
            new=f"{row.reference} created ({row.billing}): tagged {decision.tag!r}, {decision.detail}",
        )
    await runtime.after_commit()
    return str(decision.outcome)


async def tag_changes(session: AsyncSession, ticket_id: int) -> list[TagChange]:
    """The audit rows that gave the ticket its tags (its opening and every change of tags), oldest first."""
    rows = await session.execute(
        select(
            AuditEvent.field,
            AuditEvent.old_value,
            AuditEvent.new_value,
            AuditEvent.actor,
            AuditEvent.actor_user_id,
        )
        .where(
            AuditEvent.ticket_id == ticket_id,
            AuditEvent.entity == "ticket",
            AuditEvent.field.in_([OPENED, TAGS_CHANGED]),
        )
        .order_by(AuditEvent.id)
    )
    return [
        tag_change(field, old, new, actor=actor, by_staff=user_id is not None)
        for field, old, new, actor, user_id in rows
    ]


async def _record_refusal(runtime: Runtime, ticket_id: int, decision: TaggedOrderDecision) -> None:
    """Audit why the rule made no work order, once per reason, and leave the agents a note saying so."""
    text = f"no work order: tagged {decision.tag!r}, but {decision.detail}"
    if not await _audit_once(runtime, ticket_id, text):
        return
    try:
        await TicketService(runtime).add_field_note(
            RULE_ACTOR, ticket_id, f"Field service: {text}. Create the work order by hand."
        )
    except Exception:
        # The audit row holds the reason; a lost note is not worth a second audit entry.
        log.exception("the tag rule's note on ticket %s could not be written", ticket_id)


async def _audit_once(runtime: Runtime, ticket_id: int, text: str) -> bool:
    """Record the rule's ``text`` in the ticket's audit trail unless it is there already; True if recorded."""
    async with transaction(runtime.sessions) as session:
        await session.get(Ticket, ticket_id, with_for_update=True)
        said = await session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.ticket_id == ticket_id,
                AuditEvent.field == AUDIT_FIELD,
                AuditEvent.new_value == text,
            )
            .limit(1)
        )
        if said is not None:
            return False
        audit.record(
            session,
            runtime.clock.now(),
            RULE_ACTOR,
            ticket_id=ticket_id,
            field=AUDIT_FIELD,
            old=None,
            new=text,
        )
    return True
