"""Which failures are worth another try: a deadlock or a serialization failure is (PostgreSQL rolled the
transaction back so another could go on), a constraint violation is not (the work itself is wrong)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from helpdesk.core.transient import is_transient


class DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("sqlstate", "transient"), [("40P01", True), ("40001", True), ("22001", False)])
def test_a_transaction_rolled_back_for_another_is_worth_another_try(sqlstate: str, transient: bool) -> None:
    error = DBAPIError("UPDATE ticket ...", None, DriverError(sqlstate))
    assert is_transient(error) is transient


def test_a_unique_violation_is_not_worth_another_try() -> None:
    assert not is_transient(IntegrityError("INSERT ...", None, DriverError("23505")))
