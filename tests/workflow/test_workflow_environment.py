"""The rules' conda environment (workflow/envs/heterodyne.yaml) pins the package's dependencies to
the versions of uv.lock, the ones the tests run."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = ROOT / "workflow" / "envs" / "heterodyne.yaml"


def lock_versions(python: str) -> dict[str, str]:
    """{name: version} of uv.lock's packages resolved for CPython ``python`` (e.g. "3.11") on Linux."""
    platform = {"python_full_version": f"{python}.0", "python_version": python, "sys_platform": "linux",
                "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
                "platform_python_implementation": "CPython", "platform_machine": "x86_64"}
    packages = tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    return {p["name"]: p["version"] for p in packages
            if "resolution-markers" not in p or any(Marker(m).evaluate(platform) for m in p["resolution-markers"])}


def test_the_rule_environment_pins_each_package_dependency_to_the_lock():
    entries = yaml.safe_load(ENVIRONMENT.read_text())["dependencies"]
    [python] = [e.removeprefix("python=") for e in entries if isinstance(e, str) and e.startswith("python=")]
    [pip] = [e["pip"] for e in entries if isinstance(e, dict)]
    pins = dict(line.split("==") for line in pip)
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower() for requirement in dependencies}
    assert set(pins) == names
    versions = lock_versions(python)
    assert pins == {name: versions[name] for name in names}


def test_the_lock_is_read_per_python_version():
    assert lock_versions("3.11")["jax"] == "0.10.2" and lock_versions("3.12")["jax"] == "0.12.0.1"
