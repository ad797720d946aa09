"""Plain helpers the tests import by name (conftest modules are not importable reliably: there are several)."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

from helpdesk.core.queue import QueuedJob

REQUIRE_SERVICES = os.environ.get("HELPDESK_REQUIRE_SERVICES") == "1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RecordingQueue:
    """Keeps the jobs instead of running them (a test counts a request's own statements, or looks at what was
    queued)."""

    def __init__(self) -> None:
        self.jobs: list[QueuedJob] = []

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> None:
        self.jobs.append(QueuedJob(job, args, job_id, defer_seconds))

    async def enqueue_many(self, jobs: Sequence[QueuedJob]) -> None:
        self.jobs.extend(jobs)

    async def close(self) -> None:
        pass
