"""The Snakemake workflow's contract with the package: everything ``Snakefile`` and
``workflow/rules/*.smk`` import from ``heterodyne`` comes from this module and nowhere else
(tests/workflow/test_workflow_contract.py checks it).

The workflow plans its runs (:func:`plan_workflow`), sizes their jobs against the declared node
(:class:`Node`, :class:`JobRequest`, :class:`Submission`, :func:`check_node`, :func:`retry_mem_mb`),
names the files it writes (:data:`SIMULATED_DIRECTORY`, :func:`figure_stem`), writes each run's
overrides as YAML (:func:`flow`), reports bad config in one line (:class:`HeterodyneError`,
:func:`format_validation_error`) and checks that its rules run this version of the package
(:func:`check_rule_command`). The modules behind these names may move; these names stay.
"""

import shutil
import subprocess
from pathlib import Path

import heterodyne
from heterodyne.batch.node import JobRequest, Node, Submission, check_node, retry_mem_mb
from heterodyne.batch.plan import SIMULATED_DIRECTORY, plan_workflow
from heterodyne.config.messages import format_validation_error
from heterodyne.config.template import flow
from heterodyne.errors import HeterodyneError
from heterodyne.plots.trends import figure_stem

__all__ = [
    "SIMULATED_DIRECTORY",
    "HeterodyneError",
    "JobRequest",
    "Node",
    "Submission",
    "check_node",
    "check_rule_command",
    "figure_stem",
    "flow",
    "format_validation_error",
    "plan_workflow",
    "retry_mem_mb",
]


def check_rule_command(path: str | None = None) -> None:
    """Stop unless the ``heterodyne`` command the rules run is the package imported here.

    The rules find the command on ``PATH`` (``path``: that search path, the process's by default);
    it must report the version of the imported package (``heterodyne --version``), otherwise a
    driver and rules of different versions would plan jobs one way and run them another.
    """
    imported = f"heterodyne {heterodyne.__version__}"
    where = Path(heterodyne.__file__).parent
    command = shutil.which("heterodyne", path=path)
    if command is None:
        raise HeterodyneError(f"no `heterodyne` command on PATH for the rules (the workflow imported {imported} "
                              f"from {where}): install the package into the environment that runs the rules")
    completed = subprocess.run([command, "--version"], capture_output=True, text=True, check=False)
    reported = completed.stdout.strip() if completed.returncode == 0 else f"exit status {completed.returncode}"
    if reported != imported:
        raise HeterodyneError(f"the rules' {command} --version gives {reported!r}, but the workflow imported "
                              f"{imported} from {where}: install one version of the package for both")
