"""The dispatcher's page's view of a day plan (``dispatch.board``), on the help desk's runtime."""

from __future__ import annotations

from datetime import date

from dispatch.board import Board, Lane
from dispatch.board import day_board as dispatch_day_board
from helpdesk.core.principal import Principal
from helpdesk.runtime import Runtime

__all__ = ["Board", "Lane", "day_board"]


async def day_board(runtime: Runtime, principal: Principal, day: date, plan_id: int | None) -> Board:
    """See ``dispatch.board.day_board``."""
    return await dispatch_day_board(runtime, principal, day, plan_id)
