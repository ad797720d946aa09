"""A visit moved on the dispatcher's page by drag and drop: the same form fields and the same validated move
as the no-JavaScript form, answered as JSON for the page's script (``Accept: application/json``).

A refused move answers 422 with every broken rule in words (the rule, the work order, the technician), so the
script can show them next to the plan without reloading; a move that is made answers with the page to show.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Response

from dispatch.plan_edits import InvalidMove, PlanEditService
from dispatch.resources import TechnicianService
from dispatch.schemas import MoveRequest
from dispatch.validator import Violation, ViolationCode
from helpdesk.core.errors import DomainError
from helpdesk.core.principal import Principal
from helpdesk.field.tickets import HelpdeskTickets
from helpdesk.runtime import Runtime
from helpdesk.web.forms import FormErrors, convert
from helpdesk.web.i18n import N_, translations
from helpdesk.web.render import Req, field, language_of, optional_int

# Each rule the validator checks, in words a dispatcher acts on.
RULES = {
    ViolationCode.SKILL: N_("The technician lacks a skill this job needs"),
    ViolationCode.CAPACITY: N_("More work than the technician can carry"),
    ViolationCode.PINNED: N_("The job is promised to another technician"),
    ViolationCode.WINDOW: N_("The visit would start outside the customer's time window"),
    ViolationCode.TRAVEL: N_("Not enough time to travel there"),
    ViolationCode.DURATION: N_("The visit would be shorter than the job takes"),
    ViolationCode.SHIFT: N_("The day would run outside the technician's working hours"),
    ViolationCode.BREAK: N_("The lunch break would no longer fit"),
    ViolationCode.DUPLICATE: N_("The plan would list a job twice"),
    ViolationCode.MISSING: N_("The plan would lose a job"),
    ViolationCode.UNKNOWN_TECHNICIAN: N_("The technician does not work that day"),
    ViolationCode.UNKNOWN_WORK_ORDER: N_("The job cannot be planned that day"),
}
# Rules whose detail says more than the rule (the times in the others are seconds from the day's start).
DETAILED = {ViolationCode.SKILL, ViolationCode.CAPACITY, ViolationCode.PINNED}
_SKILL = re.compile(r"'([^']+)': (\d+)")


def wants_json(request: Req) -> bool:
    return "application/json" in request.headers.get("accept", "")


def move_payload(form: Any) -> dict[str, Any]:
    """The move form's fields as ``MoveRequest`` (the form counts positions from 1, the service from 0)."""
    position = optional_int(field(form, "position"))
    return {
        "work_order_id": optional_int(field(form, "work_order_id")) or 0,
        "technician_id": optional_int(field(form, "technician_id")),
        "position": max(0, (position or 1) - 1),
    }


def violation_words(violation: Violation, gettext: Any, names: dict[str, str]) -> dict[str, str]:
    """One broken rule for people: what the rule is, which job and technician, and the detail that helps."""
    detail = ""
    if violation.code in DETAILED:
        detail = _SKILL.sub(r"\1 ≥ \2", violation.detail).replace("{", "").replace("}", "")
    return {
        "code": str(violation.code),
        "rule": gettext(RULES.get(violation.code, violation.code)),
        "work_order": f"WO-{violation.work_order_id}" if violation.work_order_id else "",
        "technician": names.get(violation.technician_id or "", ""),
        "detail": detail,
    }


async def move_answer(
    request: Req, principal: Principal, runtime: Runtime, plan_id: int, payload: dict[str, Any]
) -> Response[dict[str, Any]]:
    """Make the move and answer ``{url}`` (the page showing the changed plan), or 422 ``{message,
    violations}`` when it breaks rules, or the error's status with ``{message}`` for anything else refused."""
    words = translations(language_of(request, principal))
    try:
        plan = await PlanEditService(runtime).move(principal, plan_id, convert(payload, MoveRequest))
    except InvalidMove as exc:
        technicians = await TechnicianService(runtime, HelpdeskTickets(runtime)).list_technicians()
        names = {str(t.id): t.name for t in technicians}
        count = len(exc.violations)
        message = words.ngettext(
            "Not moved: the plan would break %(num)s rule.",
            "Not moved: the plan would break %(num)s rules.",
            count,
        ) % {"num": count}
        violations = [violation_words(v, words.gettext, names) for v in exc.violations]
        return Response({"message": message, "violations": violations}, status_code=422)
    except FormErrors as exc:
        return Response({"message": "; ".join(exc.errors.values()), "violations": []}, status_code=422)
    except DomainError as exc:
        return Response({"message": exc.detail, "violations": []}, status_code=exc.status_code)
    order_id = payload["work_order_id"]
    url = f"/agent/dispatch?day={plan.day}&plan={plan.id}&moved={order_id}#wo-{order_id}"
    return Response({"url": url}, status_code=200)
