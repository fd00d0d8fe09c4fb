"""The agent distribution stays standard-library only and independent of the service package."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

AGENT = Path(__file__).resolve().parents[2] / "agent"


def test_agent_imports_only_the_standard_library_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | {"ironworks_agent", "__future__"}
    offenders = []
    for path in (AGENT / "src" / "ironworks_agent").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] not in allowed]
    assert offenders == []


def test_distribution_metadata() -> None:
    meta = tomllib.loads((AGENT / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "ironworks-agent"
    assert meta["project"]["dependencies"] == []
    assert meta["project"]["scripts"]["ironworks-agent"] == "ironworks_agent.main:main"
