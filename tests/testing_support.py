"""Plain helpers the tests import by name (conftest modules are not importable reliably: there are several)."""

from __future__ import annotations

import os
import socket

REQUIRE_SERVICES = os.environ.get("HELPDESK_REQUIRE_SERVICES") == "1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
