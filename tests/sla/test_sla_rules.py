"""SLA rules over a ticket timeline: target states, pauses, warnings and the escalation schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from helpdesk.core.errors import InvalidInput
from sla.calendar import ALWAYS_OPEN, calendar_from_dict
from sla.rules import (
    BREACH,
    PauseInterval,
    SlaPolicy,
    SlaStatus,
    SlaTarget,
    SlaTargets,
    StatusChange,
    TargetState,
    TicketTimeline,
    WarningThreshold,
    evaluate_sla,
)

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 2027-06-07 to Friday 2027-06-11, 09:00-17:00 (8 business hours a day).
OFFICE = calendar_from_dict(
    {
        "timezone": "Europe/Berlin",
        "week": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    }
)
POLICY = SlaPolicy(
    targets={
        "P1": SlaTargets(first_response_minutes=30, resolution_minutes=240, next_response_minutes=60),
        "P2": SlaTargets(
            first_response_minutes=60,
            resolution_minutes=480,
            next_response_minutes=120,
            periodic_update_minutes=240,
        ),
        "P3": SlaTargets(first_response_minutes=480, resolution_minutes=3 * 480),
    },
    warnings=(WarningThreshold(percent_of_target=75), WarningThreshold(minutes_before=10)),
)


def at(day: int, clock: str) -> datetime:
    """An instant in the week of Monday 2027-06-07, Berlin time: ``at(8, "10:00")`` is Tuesday 10:00."""
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime(2027, 6, day, hour, minute, tzinfo=BERLIN)


def evaluate(
    now: datetime,
    *,
    priority: str = "P2",
    created_at: datetime | None = None,
    replies: tuple[datetime, ...] = (),
    messages: tuple[datetime, ...] = (),
    changes: tuple[StatusChange, ...] = (),
    fired: frozenset[tuple[str, str]] = frozenset(),
    policy: SlaPolicy = POLICY,
) -> SlaStatus:
    timeline = TicketTimeline(
        created_at=created_at or at(8, "10:00"),
        priority=priority,
        status_changes=changes,
        customer_messages=messages,
        agent_public_replies=replies,
    )
    return evaluate_sla(policy, OFFICE, timeline, now, fired=fired)


@pytest.mark.parametrize(
    ("reply", "state", "margin"),
    [
        (at(8, "10:30"), TargetState.MET, 30),
        (at(8, "11:00"), TargetState.MET, 0),
        (at(8, "11:15"), TargetState.BREACHED, -15),
    ],
)
def test_first_response_is_met_by_a_public_reply_before_the_deadline(
    reply: datetime, state: TargetState, margin: float
) -> None:
    status = evaluate(at(8, "12:00"), replies=(reply,))

    first = status.target(SlaTarget.FIRST_RESPONSE)
    assert first is not None
    assert (first.state, first.due_at, first.met_at, first.margin_minutes) == (
        state,
        at(8, "11:00"),
        reply,
        margin,
    )
    assert first.breached_at == (at(8, "11:00") if state == TargetState.BREACHED else None)
    assert status.first_response_due_at is None


def test_unanswered_first_response_is_breached_at_its_deadline() -> None:
    status = evaluate(at(8, "11:30"))

    first = status.target(SlaTarget.FIRST_RESPONSE)
    assert first is not None
    assert first.state == TargetState.BREACHED
    assert first.breached_at == at(8, "11:00")
    assert first.margin_minutes == -30
    assert status.first_response_due_at == at(8, "11:00")
    # A breached clock leaves sla_due_at to the targets still running.
    assert status.sla_due_at == at(9, "10:00")


def test_first_response_due_outside_hours_lands_on_the_next_working_day() -> None:
    status = evaluate(at(11, "16:30"), created_at=at(11, "16:30"))

    assert status.first_response_due_at == at(14, "09:30")
    assert status.first_response_due_at is not None
    assert status.first_response_due_at.tzinfo is UTC


def test_customer_reply_after_an_answer_arms_the_next_response_clock() -> None:
    replies = (at(8, "10:30"),)
    messages = (at(8, "12:00"), at(8, "12:30"))

    status = evaluate(at(8, "12:45"), replies=replies, messages=messages)

    next_response = status.target(SlaTarget.NEXT_RESPONSE)
    assert next_response is not None
    assert next_response.state == TargetState.RUNNING
    assert next_response.clock_started_at == at(8, "12:00")  # the earliest unanswered message counts
    assert status.next_response_due_at == at(8, "14:00")
    assert status.sla_due_at == at(8, "14:00")


def test_agent_reply_meets_the_next_response_and_a_later_message_starts_a_new_cycle() -> None:
    replies = (at(8, "10:30"), at(8, "13:00"))

    answered = evaluate(at(8, "14:00"), replies=replies, messages=(at(8, "12:00"),))
    rearmed = evaluate(at(8, "15:30"), replies=replies, messages=(at(8, "12:00"), at(8, "15:00")))

    met = answered.target(SlaTarget.NEXT_RESPONSE)
    assert met is not None
    assert (met.state, met.met_at, met.margin_minutes) == (TargetState.MET, at(8, "13:00"), 60)
    assert answered.next_response_due_at is None
    assert rearmed.next_response_due_at == at(8, "17:00")  # 2 business hours, exactly to the day's end


def test_messages_before_the_first_answer_do_not_arm_the_next_response() -> None:
    status = evaluate(at(8, "10:40"), messages=(at(8, "10:20"),))

    assert status.target(SlaTarget.NEXT_RESPONSE) is None
    assert status.next_response_due_at is None


def test_pending_customer_pauses_the_resolution_clock() -> None:
    changes = (StatusChange(at(8, "11:00"), "pending_customer"), StatusChange(at(9, "11:00"), "open"))

    while_pending = evaluate(at(8, "15:00"), created_at=at(8, "09:00"), changes=changes[:1])
    after = evaluate(at(9, "12:00"), created_at=at(8, "09:00"), changes=changes)

    paused = while_pending.target(SlaTarget.RESOLUTION)
    assert paused is not None
    assert (paused.state, paused.due_at, paused.margin_minutes) == (TargetState.PAUSED, None, 360)
    assert while_pending.resolution_due_at is None
    assert while_pending.pauses == (PauseInterval("pending_customer", at(8, "11:00"), None),)
    # 2 hours before the pause, 6 left from Wednesday 11:00.
    assert after.resolution_due_at == at(9, "17:00")
    assert after.pauses == (PauseInterval("pending_customer", at(8, "11:00"), at(9, "11:00")),)


def test_resolving_meets_the_resolution_and_reopening_resumes_the_same_clock() -> None:
    resolved = (StatusChange(at(8, "12:00"), "resolved"),)
    reopened = (*resolved, StatusChange(at(9, "09:00"), "open"))

    met = evaluate(at(8, "13:00"), created_at=at(8, "09:00"), replies=(at(8, "09:10"),), changes=resolved)
    running = evaluate(at(9, "10:00"), created_at=at(8, "09:00"), replies=(at(8, "09:10"),), changes=reopened)

    resolution = met.target(SlaTarget.RESOLUTION)
    assert resolution is not None
    assert (resolution.state, resolution.met_at, resolution.margin_minutes) == (
        TargetState.MET,
        at(8, "12:00"),
        300,
    )
    assert met.resolution_due_at is None
    assert running.resolution_due_at == at(9, "14:00")  # 3 hours used on Tuesday, 5 left on Wednesday


@pytest.mark.parametrize(
    ("statuses", "stopped_at"),
    [
        ((), None),
        ((("11:00", "pending_customer"),), None),
        ((("11:00", "resolved"),), at(8, "11:00")),
        ((("11:00", "resolved"), ("12:00", "closed")), at(8, "11:00")),
        ((("11:00", "closed"),), at(8, "11:00")),
        ((("11:00", "resolved"), ("12:00", "open")), None),
        ((("11:00", "resolved"), ("12:00", "open"), ("13:00", "resolved")), at(8, "13:00")),
    ],
)
def test_clocks_are_stopped_from_when_the_ticket_entered_the_stopping_statuses_it_is_still_in(
    statuses: tuple[tuple[str, str], ...], stopped_at: datetime | None
) -> None:
    changes = tuple(StatusChange(at(8, when), status) for when, status in statuses)

    status = evaluate(at(8, "15:00"), created_at=at(8, "09:00"), changes=changes)

    assert status.stopped_at == stopped_at


def test_warnings_come_before_the_breach_in_business_time() -> None:
    status = evaluate(at(8, "10:05"))

    schedule = [
        (step.target, step.level, step.at)
        for step in status.escalations
        if step.target == SlaTarget.FIRST_RESPONSE
    ]
    assert schedule == [
        (SlaTarget.FIRST_RESPONSE, "warning_1", at(8, "10:45")),
        (SlaTarget.FIRST_RESPONSE, "warning_2", at(8, "10:50")),
        (SlaTarget.FIRST_RESPONSE, BREACH, at(8, "11:00")),
    ]
    assert status.next_escalation_at == at(8, "10:45")


def test_next_escalation_skips_levels_already_fired() -> None:
    fired = frozenset({("first_response", "warning_1"), ("first_response", "warning_2")})

    status = evaluate(at(8, "10:55"), fired=fired)

    assert status.next_escalation_at == at(8, "11:00")
    assert [step.level for step in status.escalations if step.fired] == ["warning_1", "warning_2"]


def test_breached_target_keeps_only_its_breach_step() -> None:
    status = evaluate(at(8, "11:30"))

    levels = [step.level for step in status.escalations if step.target == SlaTarget.FIRST_RESPONSE]
    assert levels == [BREACH]
    assert status.next_escalation_at == at(8, "11:00")  # overdue and not fired: the sweep sends it now


def test_notification_at_an_interval_end_waits_for_the_next_working_minute() -> None:
    # 8 business hours from Friday 09:00 end at Friday 17:00, when nobody is at work.
    status = evaluate(at(11, "09:30"), priority="P3", created_at=at(11, "09:00"))

    breach = next(step for step in status.escalations if step.level == BREACH)
    assert breach.at == at(11, "17:00")
    assert breach.notify_at == at(14, "09:00")


def test_notification_calendar_that_is_always_open_pages_at_once() -> None:
    timeline = TicketTimeline(created_at=at(11, "09:00"), priority="P3")

    status = evaluate_sla(POLICY, OFFICE, timeline, at(11, "09:30"), notification_calendar=ALWAYS_OPEN)

    breach = next(step for step in status.escalations if step.level == BREACH)
    assert breach.notify_at == at(11, "17:00")


def test_paused_target_has_no_escalation_steps() -> None:
    changes = (StatusChange(at(8, "10:10"), "pending_customer"),)

    status = evaluate(at(8, "12:00"), replies=(at(8, "10:05"),), changes=changes)

    assert {step.target for step in status.escalations} == set()
    assert status.next_escalation_at is None
    assert status.sla_due_at is None


def test_periodic_update_runs_from_the_latest_public_reply() -> None:
    status = evaluate(at(8, "12:00"), replies=(at(8, "10:10"), at(8, "11:00")))

    assert status.periodic_update_due_at == at(8, "15:00")
    assert status.sla_due_at == at(8, "15:00")


def test_events_after_now_are_ignored() -> None:
    status = evaluate(at(8, "10:20"), replies=(at(8, "10:30"),))

    assert status.target(SlaTarget.FIRST_RESPONSE) is not None
    assert status.first_response_due_at == at(8, "11:00")


def test_unknown_priority_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        evaluate(at(8, "11:00"), priority="P4")

    assert raised.value.field == "priority"


def test_warning_needs_a_percentage_or_minutes() -> None:
    with pytest.raises(InvalidInput):
        WarningThreshold()


def test_a_status_cannot_both_pause_and_stop_the_clock() -> None:
    with pytest.raises(InvalidInput) as raised:
        SlaPolicy(targets={}, pausing_statuses=frozenset({"resolved"}))

    assert raised.value.field == "pausing_statuses"


def test_status_changes_at_one_instant_count_only_the_last() -> None:
    changes = (
        StatusChange(at(8, "11:00"), "pending_customer"),
        StatusChange(at(8, "11:00"), "open"),
        StatusChange(at(8, "12:00"), "resolved"),
        StatusChange(at(8, "13:00"), "closed"),
    )

    status = evaluate(at(8, "14:00"), replies=(at(8, "10:10"),), changes=changes)

    assert status.pauses == (
        PauseInterval("resolved", at(8, "12:00"), at(8, "13:00")),
        PauseInterval("closed", at(8, "13:00"), None),
    )
    resolution = status.target(SlaTarget.RESOLUTION)
    assert resolution is not None
    assert (resolution.state, resolution.met_at) == (TargetState.MET, at(8, "12:00"))
