"""API tokens seen in the last few seconds, so that an integration's every call does not cost a query.

A principal found for a token is kept for ``CACHE_SECONDS``. Revoking a token, or deactivating or changing
a staff user, takes effect at once in the process that made the change (any ORM change to a user or an API
token empties every cache of the process, at flush and again at commit) and within ``CACHE_SECONDS`` in the
other API processes. Tokens that match nothing are never kept.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from helpdesk.accounts.models import ApiToken, User
from helpdesk.core.principal import Principal
from helpdesk.runtime import Runtime

# The longest a revoked token or a deactivated user still gets through another process.
CACHE_SECONDS = 5.0
# Where a runtime (one per process) keeps its cache.
RUNTIME_KEY = "api_token_principals"
_CHANGED = "staff_credentials_changed"


class _Changes:
    """How many times staff users or API tokens were changed in this process."""

    count = 0


class PrincipalCache:
    """Principals by token hash, each for ``seconds``, at most ``size`` of them (the oldest go first)."""

    def __init__(
        self,
        seconds: float = CACHE_SECONDS,
        size: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._size = size
        self._monotonic = monotonic
        self._entries: OrderedDict[str, tuple[Principal, float, int]] = OrderedDict()

    def mark(self) -> int:
        """Call before reading the database; give the result to :meth:`put`, so that an answer read while a
        change was being made is not kept."""
        return _Changes.count

    def get(self, token_hash: str) -> Principal | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        principal, until, changes = entry
        if changes != _Changes.count or until < self._monotonic():
            del self._entries[token_hash]
            return None
        return principal

    def put(self, token_hash: str, principal: Principal, mark: int) -> None:
        if mark != _Changes.count or self._seconds <= 0:
            return
        self._entries[token_hash] = (principal, self._monotonic() + self._seconds, mark)
        self._entries.move_to_end(token_hash)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


def principal_cache(runtime: Runtime) -> PrincipalCache:
    cache = runtime.extras.get(RUNTIME_KEY)
    if not isinstance(cache, PrincipalCache):
        cache = runtime.extras[RUNTIME_KEY] = PrincipalCache()
    return cache


def _changed(_mapper: Any, connection: Any, target: User | ApiToken) -> None:
    _Changes.count += 1
    session = Session.object_session(target)
    if session is not None:
        session.info[_CHANGED] = True


def _committed(session: Session) -> None:
    # Again once committed: a request that read the old row between the flush and the commit kept it.
    if session.info.pop(_CHANGED, False):
        _Changes.count += 1


for _model in (User, ApiToken):
    event.listen(_model, "after_update", _changed)
    event.listen(_model, "after_delete", _changed)
event.listen(Session, "after_commit", _committed)
