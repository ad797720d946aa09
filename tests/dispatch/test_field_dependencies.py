"""The arrows of the house style: ``dispatch`` reaches the help desk only through ``helpdesk.core`` (and sla)."""

from __future__ import annotations

import ast
from pathlib import Path

import msgspec

from dispatch.osrm import OsrmTravel
from dispatch.plans import travel_provider
from dispatch.travel import HaversineTravel
from helpdesk.core.settings import Settings

DISPATCH = Path(__file__).resolve().parents[2] / "dispatch"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_dispatch_imports_no_help_desk_domain_only_its_core() -> None:
    offending = {
        f"{path.name}: {name}"
        for path in DISPATCH.glob("*.py")
        for name in _imports(path)
        if (name.split(".")[0] in {"helpdesk", "knowledge_base"} and not name.startswith("helpdesk.core"))
        or name.startswith("knowledge_base")
    }
    assert offending == set()


class _Context:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


def test_travel_is_straight_line_by_default_and_osrm_when_configured() -> None:
    with travel_provider(_Context(Settings())) as travel:  # type: ignore[arg-type]
        assert isinstance(travel, HaversineTravel)
    configured = msgspec.structs.replace(Settings(), osrm_url="http://osrm.invalid:5000")
    with travel_provider(_Context(configured)) as travel:  # type: ignore[arg-type]
        assert isinstance(travel, OsrmTravel)
    assert Settings.from_env({"HELPDESK_OSRM_URL": "http://osrm:5000"}).osrm_url == "http://osrm:5000"
