"""The workflow stops before planning when the `heterodyne` its rules run is another version than
the package it imported."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from workflow_helpers import BIN, SNAKEFILE, tiny_config, workflow_env, write_config

import heterodyne
from heterodyne.batch.workflow import check_rule_command
from heterodyne.errors import HeterodyneError


def fake_command(directory: Path, version_line: str) -> Path:
    """A `heterodyne` script in ``directory`` that prints ``version_line`` for --version."""
    directory.mkdir()
    script = directory / "heterodyne"
    script.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    script.chmod(0o755)
    return directory


def test_the_venvs_command_is_the_imported_package():
    check_rule_command(str(BIN))


def test_another_version_first_on_the_path_is_named_with_both_versions(tmp_path):
    fake = fake_command(tmp_path / "old", "heterodyne 0.0.1")
    with pytest.raises(HeterodyneError) as raised:
        check_rule_command(f"{fake}{os.pathsep}{BIN}")
    assert str(raised.value) == (
        f"the rules' {fake / 'heterodyne'} --version gives 'heterodyne 0.0.1', but the workflow imported "
        f"heterodyne {heterodyne.__version__} from {Path(heterodyne.__file__).parent}: "
        "install one version of the package for both")


def test_a_missing_command_is_named(tmp_path):
    with pytest.raises(HeterodyneError, match=r"^no `heterodyne` command on PATH for the rules"):
        check_rule_command(str(tmp_path))


def dry_run(directory: Path, path_first: Path | None) -> subprocess.CompletedProcess:
    """A dry run of the tiny workflow in ``directory`` with ``path_first`` ahead of the venv on PATH."""
    env = workflow_env()
    if path_first is not None:
        env["PATH"] = f"{path_first}{os.pathsep}{env['PATH']}"
    config_file = write_config(directory, tiny_config(directory))
    command = [str(BIN / "snakemake"), "--snakefile", str(SNAKEFILE), "--directory", str(directory),
               "--configfile", str(config_file), "-n"]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.e2e
def test_the_workflow_stops_in_one_line_on_another_version_and_plans_with_the_same(tmp_path):
    fake = fake_command(tmp_path / "old", "heterodyne 0.0.1")
    stopped = dry_run(tmp_path, fake)
    assert stopped.returncode == 1
    lines = [line for line in (stopped.stdout + stopped.stderr).splitlines() if "--version gives" in line]
    assert lines == [f"the rules' {fake / 'heterodyne'} --version gives 'heterodyne 0.0.1', but the workflow "
                     f"imported heterodyne {heterodyne.__version__} from {Path(heterodyne.__file__).parent}: "
                     "install one version of the package for both"]
    assert not (tmp_path / "results").exists()

    same = fake_command(tmp_path / "same", f"heterodyne {heterodyne.__version__}")
    planned = dry_run(tmp_path, same)
    assert planned.returncode == 0, planned.stderr[-3000:]


@pytest.mark.e2e
def test_linting_needs_no_heterodyne_command(tmp_path):
    """`snakemake --lint` reads the workflow without its runtime environment: no `heterodyne` on PATH."""
    env = dict(workflow_env(), PATH=os.pathsep.join(["/usr/bin", "/bin"]))
    assert subprocess.run(["sh", "-c", "command -v heterodyne"], env=env).returncode != 0
    config_file = write_config(tmp_path, tiny_config(tmp_path))
    linted = subprocess.run([str(BIN / "snakemake"), "--snakefile", str(SNAKEFILE), "--directory", str(tmp_path),
                             "--configfile", str(config_file), "--lint"], capture_output=True, text=True, env=env,
                            timeout=300)
    assert linted.returncode == 0, linted.stderr[-3000:]
    assert "Congratulations, your workflow is in a good condition!" in linted.stdout + linted.stderr
    # a dry run with the same PATH still stops at the missing command
    planned = subprocess.run([str(BIN / "snakemake"), "--snakefile", str(SNAKEFILE), "--directory", str(tmp_path),
                              "--configfile", str(config_file), "-n"], capture_output=True, text=True, env=env,
                             timeout=300)
    assert planned.returncode == 1
    assert "no `heterodyne` command on PATH for the rules" in planned.stdout + planned.stderr
