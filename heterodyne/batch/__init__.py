"""Planning a batch of runs from the workflow configuration (the Snakemake workflow's helpers).

The workflow (``Snakefile``, ``workflow/rules/common.smk``) calls :func:`plan_workflow` when it
builds its job graph: datasets × sweep points × seeds become :class:`Run` objects, each
validated against the analysis schema and sized from the data's shape (point count, CMC shard
count, memory), before any job starts. Nothing here writes a file or runs a fit.
"""

from heterodyne.batch.datasets import Dataset, collect_datasets
from heterodyne.batch.plan import Plan, Run, plan_workflow
from heterodyne.batch.sweep import SweepPoint, expand_sweep

__all__ = ["Dataset", "Plan", "Run", "SweepPoint", "collect_datasets", "expand_sweep", "plan_workflow"]
