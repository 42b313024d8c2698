"""The workflow imports from the package only its contract, heterodyne.batch.workflow, and the
contract holds only what the workflow uses."""

import re
from pathlib import Path

from heterodyne.batch import workflow as contract

ROOT = Path(__file__).resolve().parents[2]
FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.MULTILINE)
IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]+)", re.MULTILINE)


def workflow_files() -> list[Path]:
    """The Snakefile, the rule files and the workflow's scripts."""
    return [ROOT / "Snakefile", *sorted((ROOT / "workflow").rglob("*.smk")),
            *sorted((ROOT / "workflow").rglob("*.py"))]


def package_imports(text: str) -> set[tuple[str, str]]:
    """(module, name) of every import of ``heterodyne`` in a Snakefile, rule file or script
    (name "" for `import heterodyne...`)."""
    imports = set()
    for module, names in FROM_IMPORT.findall(text):
        if module.split(".")[0] == "heterodyne":
            imports |= {(module, name.split(" as ")[0].strip())
                        for name in names.strip("()").replace("\n", " ").split(",") if name.strip()}
    for modules in IMPORT.findall(text):
        imports |= {(name.split(" as ")[0].strip(), "") for name in modules.split(",")
                    if name.strip().split(".")[0] == "heterodyne"}
    return imports


def test_the_check_reads_both_import_forms_over_several_lines():
    text = "import os, heterodyne.model as m\nfrom heterodyne.batch import (\n    Plan,\n    Run as R,\n)\n"
    assert package_imports(text) == {("heterodyne.model", ""), ("heterodyne.batch", "Plan"),
                                     ("heterodyne.batch", "Run")}


def test_the_workflow_imports_only_the_contract_and_all_of_it():
    files = workflow_files()
    assert len(files) >= 8
    imports = set().union(*(package_imports(path.read_text()) for path in files))
    assert {module for module, _ in imports} == {"heterodyne.batch.workflow"}
    assert {name for _, name in imports} == set(contract.__all__)
