"""Work order lifecycle and appointment rules. Pure: no I/O, ``now`` passed in."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from helpdesk.core.errors import InvalidTransition


class WorkOrderStatus(StrEnum):
    UNSCHEDULED = "unscheduled"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    CANNOT_COMPLETE = "cannot_complete"
    CANCELLED = "cancelled"


_S = WorkOrderStatus
TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    _S.UNSCHEDULED: frozenset({_S.SCHEDULED, _S.DISPATCHED, _S.CANCELLED}),
    _S.SCHEDULED: frozenset({_S.UNSCHEDULED, _S.SCHEDULED, _S.DISPATCHED, _S.EN_ROUTE, _S.CANCELLED}),
    _S.DISPATCHED: frozenset({_S.UNSCHEDULED, _S.SCHEDULED, _S.DISPATCHED, _S.EN_ROUTE, _S.CANCELLED}),
    _S.EN_ROUTE: frozenset({_S.ON_SITE, _S.CANNOT_COMPLETE, _S.CANCELLED}),
    _S.ON_SITE: frozenset({_S.COMPLETED, _S.CANNOT_COMPLETE}),
    _S.COMPLETED: frozenset(),
    # Another visit is needed: the order goes back to planning.
    _S.CANNOT_COMPLETE: frozenset({_S.UNSCHEDULED}),
    _S.CANCELLED: frozenset(),
}
# Orders a technician has started: re-planning keeps them where they are.
STARTED = frozenset({_S.EN_ROUTE, _S.ON_SITE, _S.COMPLETED})
# Orders a day plan may (re)place.
PLANNABLE = frozenset({_S.UNSCHEDULED, _S.SCHEDULED, _S.DISPATCHED})
# Steps a technician takes on their own order; everything else is the dispatcher's.
TECHNICIAN_STEPS = frozenset({_S.EN_ROUTE, _S.ON_SITE, _S.COMPLETED, _S.CANNOT_COMPLETE})
OPEN = frozenset(set(_S) - {_S.COMPLETED, _S.CANCELLED, _S.CANNOT_COMPLETE})


def check_transition(current: WorkOrderStatus, target: WorkOrderStatus) -> None:
    """Raise ``InvalidTransition`` (field ``status``) unless ``current → target`` is a lifecycle step."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is final)"
        raise InvalidTransition(
            f"a {current} work order cannot become {target}; it can become {allowed}", field="status"
        )


APPOINTMENT_WINDOW = timedelta(hours=2)
_ROUND = 30 * 60


def appointment_window(planned_start: datetime) -> tuple[datetime, datetime]:
    """The arrival window told to the customer: two hours starting at the planned start rounded down to the
    half hour, so small re-timings inside the day do not break the promise."""
    seconds = int(planned_start.astimezone(UTC).timestamp())
    start = datetime.fromtimestamp(seconds - seconds % _ROUND, tz=UTC)
    return start, start + APPOINTMENT_WINDOW


def time_on_site_minutes(arrived_at: datetime | None, finished_at: datetime) -> int | None:
    if arrived_at is None:
        return None
    return max(0, round((finished_at - arrived_at).total_seconds() / 60))


class TaggedOrderOutcome(StrEnum):
    """What the tag rule does with a ticket (``HELPDESK_FIELD_ORDER_TAGS``)."""

    CREATE = "create"
    NOT_TAGGED = "not_tagged"
    HAS_ORDER = "has_order"
    NO_SITE = "no_site"
    SEVERAL_SITES = "several_sites"


@dataclass(frozen=True, slots=True)
class SiteCandidate:
    """An asset that could be the site of the visit: the customer's, else their organisation's."""

    asset_id: int
    serial_number: str
    product: str


@dataclass(frozen=True, slots=True)
class TaggedOrderDecision:
    outcome: TaggedOrderOutcome
    tag: str | None = None
    asset_id: int | None = None
    # Why, in words for the ticket's audit trail and note.
    detail: str = ""


def tagged_order_decision(
    rule_tags: Collection[str],
    ticket_tags: Collection[str],
    work_order_ids: Collection[int],
    customer_sites: Sequence[SiteCandidate],
    organisation_sites: Sequence[SiteCandidate],
) -> TaggedOrderDecision:
    """Whether a ticket gets an unscheduled work order from the tag rule, and at which asset.

    Only a ticket carrying one of ``rule_tags`` is considered; one that has a work order already (made by the
    rule or by hand) gets none: one work order per ticket however often the tag is set. The site must be
    known without guessing: the customer's only asset, else their organisation's only asset; none or several
    leave the ticket to an agent, with the reason.
    """
    tag = next((t for t in sorted(ticket_tags) if t in rule_tags), None)
    if tag is None:
        return TaggedOrderDecision(TaggedOrderOutcome.NOT_TAGGED)
    if work_order_ids:
        existing = ", ".join(f"WO-{i}" for i in sorted(work_order_ids))
        return TaggedOrderDecision(TaggedOrderOutcome.HAS_ORDER, tag, detail=f"the ticket has {existing}")
    sites = customer_sites or organisation_sites
    owner = "the customer" if customer_sites else "the customer's organisation"
    if not sites:
        return TaggedOrderDecision(
            TaggedOrderOutcome.NO_SITE,
            tag,
            detail="neither the customer nor their organisation has a registered asset, so the site is unknown",
        )
    if len(sites) > 1:
        listed = ", ".join(f"{s.product} {s.serial_number}" for s in sites[:5])
        more = f" and {len(sites) - 5} more" if len(sites) > 5 else ""
        return TaggedOrderDecision(
            TaggedOrderOutcome.SEVERAL_SITES,
            tag,
            detail=f"{owner} has {len(sites)} assets ({listed}{more}); which one needs the visit is not known",
        )
    site = sites[0]
    return TaggedOrderDecision(
        TaggedOrderOutcome.CREATE,
        tag,
        asset_id=site.asset_id,
        detail=f"at {owner}'s asset {site.product} {site.serial_number}",
    )
