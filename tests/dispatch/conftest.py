"""Small hand-checkable worlds on a line: location ``pN`` is N minutes' (and N km) drive from ``p0``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest

from dispatch.planning import PlanningProblem, Technician, WorkOrder
from dispatch.travel import MatrixTravel


def _line_travel() -> MatrixTravel:
    keys = [f"p{i}" for i in range(121)]
    return MatrixTravel(
        keys,
        [[abs(a - b) * 60 for b in range(121)] for a in range(121)],
        [[abs(a - b) * 1000 for b in range(121)] for a in range(121)],
    )


@pytest.fixture(scope="session")
def line_travel() -> MatrixTravel:
    return _line_travel()


@pytest.fixture
def make_problem(
    line_travel: MatrixTravel,
) -> Callable[[Sequence[Technician], Sequence[WorkOrder]], PlanningProblem]:
    def make(technicians: Sequence[Technician], orders: Sequence[WorkOrder]) -> PlanningProblem:
        return PlanningProblem(
            day_start=datetime(2025, 3, 3, tzinfo=UTC),
            technicians=tuple(technicians),
            work_orders=tuple(orders),
            travel=line_travel,
        )

    return make
