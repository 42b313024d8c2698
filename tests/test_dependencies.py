"""pyproject.toml holds the one dependency list; environment.yml repeats it exactly (the rules' conda
environment pins it to uv.lock: tests/workflow/test_workflow_environment.py)."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(.*?)\s*$")


def requirements(lines) -> dict[str, str]:
    """{name: specifier} of requirement strings such as 'numpy>=2.4' (spaces ignored)."""
    parsed = {}
    for line in lines:
        name, specifier = REQUIREMENT.match(line).groups()
        parsed[name.lower()] = specifier.replace(" ", "")
    return parsed


def conda_requirements(path: Path) -> dict[str, str]:
    entries = yaml.safe_load(path.read_text())["dependencies"]
    return requirements(e for e in entries if isinstance(e, str) and not e.startswith(("python=", "pip")))


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_conda_environment_has_the_dependencies_the_cluster_and_the_tests():
    extras = project()["optional-dependencies"]
    expected = requirements(project()["dependencies"] + extras["cluster"] + extras["test"])
    assert conda_requirements(ROOT / "environment.yml") == expected
