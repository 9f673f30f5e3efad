"""The code's own conventions, checked so they stay true: short functions, a self-contained repo."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 60


@pytest.mark.parametrize("module", sorted((PROJECT / "components").glob("*.py")), ids=str)
def test_no_function_in_components_runs_over_60_lines(module: Path) -> None:
    tree = ast.parse(module.read_text())
    long = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_no_tracked_file_refers_to_documents_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = ("DESIGN.md", "REFERENCE.md", "shared/", "../")
    found = [
        f"{name}: {word}"
        for name in tracked
        if (PROJECT / name).is_file() and name != "tests/test_conventions.py"
        for word in outside
        if word in (PROJECT / name).read_text(errors="replace")
    ]
    assert found == []
