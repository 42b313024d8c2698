"""The benchmarks import only what the package has: they run outside the test suite, so a renamed
module or function would otherwise break them unnoticed."""

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def package_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) of every ``from heterodyne… import name`` in the file at ``path``."""
    tree = ast.parse(path.read_text())
    return [(node.lineno, node.module, alias.name) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "heterodyne"
            for alias in node.names]


def resolves(module: str, name: str) -> bool:
    """Whether ``from module import name`` would succeed (an attribute or a submodule)."""
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError:
        return False
    if hasattr(imported, name):
        return True
    try:
        importlib.import_module(f"{module}.{name}")
    except ModuleNotFoundError:
        return False
    return True


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.py")), ids=lambda path: path.name)
def test_every_package_import_of_a_benchmark_resolves(path):
    missing = [f"line {line}: from {module} import {name}" for line, module, name in package_imports(path)
               if not resolves(module, name)]
    assert not missing, missing


def test_a_missing_name_is_caught():
    assert resolves("heterodyne.cmc.barycenter", "mean_of")
    assert not resolves("heterodyne.cmc.barycenter", "no_such_name")
    assert not resolves("heterodyne.no_such_module", "anything")
