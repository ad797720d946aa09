"""Failures worth another try: the database (or another server) went away for a moment, or rolled a
transaction back in favour of another (a deadlock).

arq retries a job only when it raises ``Retry``; any other exception ends the job for good. A PostgreSQL
restart surfaces as a ``DBAPIError`` whose connection was invalidated (the connection died under a
statement) or a refused connection (the server is not listening yet), so a job decorated with
:func:`retry_when_transient` comes back a little later instead of leaving its work undone.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar, cast

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from helpdesk.core.queue import JobFunction, Retry

Job = TypeVar("Job", bound=JobFunction)

# SQLSTATEs of deadlock_detected and serialization_failure.
ROLLED_BACK_FOR_ANOTHER = frozenset({"40P01", "40001"})
# Backoff of a job retried after a transient failure: short, because a database restart takes seconds.
FIRST_DELAY_SECONDS = 1
MAX_DELAY_SECONDS = 60


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says a server was unreachable or a connection died, rather than that the work is
    wrong: worth trying again later."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    # PostgreSQL rolled this transaction back so that another could go on (a deadlock, e.g. a clock finished
    # while its ticket moves queue, both reaching the report counters; a serialization failure): the same
    # work succeeds when tried again.
    if isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in ROLLED_BACK_FOR_ANOTHER:
        return True
    if isinstance(error, OperationalError | InterfaceError | DisconnectionError | PoolTimeoutError):
        return True
    # Refused, reset and timed-out connections (asyncpg raises them unwrapped while connecting).
    return isinstance(error, ConnectionError | TimeoutError)


def transient_delay_seconds(job_try: int) -> int:
    return int(min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** max(0, job_try - 1)))


def retry_when_transient(function: Job) -> Job:
    """Wrap a job so that a transient failure raises ``Retry`` with backoff; other errors pass through.
    The wrapper keeps the job's name (jobs are queued by ``__name__``)."""

    @functools.wraps(function)
    async def job(ctx: dict[str, Any], *args: Any) -> Any:
        try:
            return await function(ctx, *args)
        except Retry:
            raise
        except Exception as error:
            if not is_transient(error):
                raise
            raise Retry(defer=transient_delay_seconds(int(ctx.get("job_try", 1)))) from error

    return cast(Job, job)
