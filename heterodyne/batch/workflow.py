"""The Snakemake workflow's contract with the package: everything ``Snakefile`` and
``workflow/rules/*.smk`` import from ``heterodyne`` comes from this module and nowhere else
(tests/test_workflow_contract.py checks it).

The workflow plans its runs (:func:`plan_workflow`), sizes their jobs against the declared node
(:class:`Node`, :class:`JobRequest`, :class:`Submission`, :func:`check_node`, :func:`retry_mem_mb`),
names the files it writes (:data:`SIMULATED_DIRECTORY`, :func:`figure_stem`), writes each run's
overrides as YAML (:func:`flow`) and reports bad config in one line (:class:`HeterodyneError`,
:func:`format_validation_error`). The modules behind these names may move; these names stay.
"""

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
    "figure_stem",
    "flow",
    "format_validation_error",
    "plan_workflow",
    "retry_mem_mb",
]
