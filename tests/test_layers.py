"""One direction of dependency: the command line imports the library, never the reverse."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "heterodyne"
COMMAND_LAYER = ("heterodyne.cli", "heterodyne.commands")


def imported_modules(path: Path) -> set[str]:
    """Every module named by an import statement of ``path`` (at any depth, lazy ones included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def is_command_layer(module: str) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in COMMAND_LAYER)


def test_no_library_module_imports_the_command_line():
    library = [p for p in PACKAGE.rglob("*.py") if p.name != "cli.py" and "commands" not in p.parts]
    assert len(library) > 50
    offenders = {str(p.relative_to(PACKAGE.parent)): sorted(filter(is_command_layer, imported_modules(p)))
                 for p in library}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_a_lazy_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from heterodyne.commands import run\n")
    assert is_command_layer("heterodyne.commands") and any(map(is_command_layer, imported_modules(module)))
