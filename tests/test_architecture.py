"""The dependency arrows of the house style, checked over the source: helpdesk.core <- sla, knowledge_base,
dispatch <- the rest of helpdesk. A top-level domain may use helpdesk.core and the domains listed for it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "sla": {"sla", "helpdesk.core"},
    "knowledge_base": {"knowledge_base", "helpdesk.core"},
    "dispatch": {"dispatch", "helpdesk.core", "sla"},
    "helpdesk.core": {"helpdesk.core"},
}
PROJECT = ("helpdesk", "sla", "knowledge_base", "dispatch")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in PROJECT}


def allowed(module: str, permitted: set[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in permitted)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_arrows_allow(package: str) -> None:
    folder = ROOT.joinpath(*package.split("."))
    wrong = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in folder.rglob("*.py")
        for module in imports_of(path)
        if not allowed(module, ALLOWED[package])
    )
    assert wrong == []
