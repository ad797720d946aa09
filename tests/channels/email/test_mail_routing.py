"""Deciding a batch of mail in memory (routing.decide): each mail sees what the mail before it decided."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailkit import make_mail

from helpdesk.channels.email.lookups import Claimed, Lookups
from helpdesk.channels.email.parser import parse_message
from helpdesk.channels.email.routing import BatchView, MailDecision, RoutingRules, account, decide
from helpdesk.customers.models import Customer
from helpdesk.tickets.batch import TicketBatch

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
RULES = RoutingRules(own=frozenset({"support@helpdesk.localhost"}), prefix="HD", fallback_days=14,
                     auto_reply_cap=1, new_ticket_cap=2, over_auto_cap_note="over the cap")  # fmt: skip
CUSTOMERS = {
    "anna@example.com": Customer(id=1, email="anna@example.com", name="Anna", organisation_id=None),
    "boris@example.org": Customer(id=2, email="boris@example.org", name="Boris", organisation_id=None),
}


def _lookups() -> Lookups:
    return Lookups(
        auto_since=NOW - timedelta(hours=3), day_since=NOW - timedelta(days=1), customers=CUSTOMERS
    )


def _decide_all(*raws: bytes) -> tuple[list[MailDecision], BatchView]:
    lookups, view = _lookups(), BatchView(TicketBatch(NOW, 1000, 1000))
    decisions = []
    for number, raw in enumerate(raws):
        item = Claimed(number, parse_message(raw), attempts=1, received_at=NOW)
        decision = decide(item, lookups, view, RULES)
        account(item, decision, lookups, view)
        decisions.append(decision)
    return decisions, view


def test_a_reply_threads_by_id_to_a_ticket_opened_earlier_in_the_batch() -> None:
    (opened, reply), view = _decide_all(
        make_mail(message_id="<a@example.com>"),
        make_mail(message_id="<b@example.com>", subject="Re: Printer jams", headers={"In-Reply-To": "<a@example.com>"}),
    )  # fmt: skip

    assert (opened.outcome, reply.outcome) == ("new_ticket", "reply")
    assert reply.ticket_key == opened.ticket_key == -1
    assert opened.acknowledged
    assert view.tickets.opened[0].thread_message_id == "<a@example.com>"


def test_a_colleague_copied_on_a_ticket_the_batch_opened_is_kept_as_a_note() -> None:
    (opened, note), view = _decide_all(
        make_mail(message_id="<a@example.com>", to="support@helpdesk.localhost, boris@example.org"),
        make_mail(sender="Boris <boris@example.org>", subject="Re: Printer jams", headers={"In-Reply-To": "<a@example.com>"}),
    )  # fmt: skip

    assert opened.recipients == [("boris@example.org", "to", "")]
    assert (note.outcome, note.ticket_key) == ("reply", -1)
    assert view.tickets.messages[note.message_index or 0].kind == "internal_note"


def test_the_caps_count_the_mail_decided_before_in_the_batch() -> None:
    decisions, _view = _decide_all(*(make_mail(subject=f"Problem {n}") for n in range(3)))

    assert [d.outcome for d in decisions] == ["new_ticket", "new_ticket", "flagged"]
    assert [d.acknowledged for d in decisions] == [True, False, False]
    assert decisions[1].notes == ["over the cap"]
