"""From the workflow config to the runs: datasets × sweep points × seeds, each validated and sized.

Every run's analysis config is resolved here exactly as ``heterodyne resolve-config`` will
write it (base config, the dataset's overrides, the sweep values, the data file and the seed),
so a bad sweep key, a bad value or an impossible selection stops the workflow before any job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heterodyne.batch import resources
from heterodyne.batch.datasets import Dataset, collect_datasets
from heterodyne.batch.shape import DataShape, Selection, file_shape, selection, simulated_shape
from heterodyne.batch.sweep import SweepPoint, expand_sweep
from heterodyne.config import AnalysisConfig, resolve_config
from heterodyne.config.yaml_io import read_yaml
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import N_PHYSICS

SIMULATED_DIRECTORY = "simulated"
WORKFLOW_KEYS = ("experimental_data.file_path", "optimization.nlsq.seed", "optimization.cmc.seed",
                 "output.output_dir")
"""Keys the workflow sets itself (datasets, seeds, run directories): not for sweeps or sheets."""


@dataclass(frozen=True)
class Run:
    """One run: a dataset, a sweep point and a seed, with its resolved config and data selection."""

    dataset: Dataset
    point: SweepPoint
    seed: int
    config: AnalysisConfig
    data: Selection

    @property
    def directory(self) -> str:
        """The run's directory below the results directory: ``<dataset>/<point>/seed<seed>``."""
        return f"{self.dataset.name}/{self.point.name}/seed{self.seed}"

    @property
    def overrides(self) -> dict[str, Any]:
        """The dotted-key overrides of the base config: the dataset's, then the sweep point's."""
        return {**self.dataset.overrides, **self.point.values}

    def n_shards(self) -> int:
        """K, the CMC shard count of this run (``heterodyne.cmc.plan.shard_plan``)."""
        from heterodyne.cmc.plan import shard_plan

        return shard_plan(self.data.n_points, self.config.optimization.cmc).n_shards

    def nlsq_mem_mb(self) -> int:
        """Memory estimate of the NLSQ job."""
        n_columns = N_PHYSICS + 2 * self.data.n_angles
        return resources.nlsq_mem_mb(self.data, n_columns, self.config.optimization.nlsq.max_points)

    def shard_threads(self) -> int:
        """Threads of one CMC shard job: every chain side by side."""
        return resources.shard_threads(self.config.optimization.cmc.num_chains)

    def shard_mem_mb(self, threads: int) -> int:
        """Memory estimate of one CMC shard job of ``threads`` threads (that many chains at once at most)."""
        chains_at_once = min(self.config.optimization.cmc.num_chains, threads)
        return resources.shard_mem_mb(self.data, self.n_shards(), chains_at_once)

    def combine_mem_mb(self) -> int:
        """Memory estimate of the consensus job."""
        return resources.combine_mem_mb(self.data)


@dataclass(frozen=True)
class Plan:
    """Every run of the workflow, keyed by (dataset, point, seed), and what the summary needs."""

    runs: dict[tuple[str, str, int], Run]
    datasets: dict[str, Dataset]
    sweep_keys: list[str]
    points: list[str]
    seeds: list[int]
    methods: list[str]

    def run(self, dataset: str, point: str, seed: int) -> Run:
        """The run with these coordinates; unknown coordinates raise HeterodyneError."""
        try:
            return self.runs[(dataset, point, seed)]
        except KeyError:
            raise HeterodyneError(f"no run {dataset}/{point}/seed{seed} in the workflow config") from None


def check_sweep(base: dict[str, Any], source: str, grid: Mapping[str, list[Any]],
                datasets: list[Dataset]) -> None:
    """Each sweep key names an analysis-config key the workflow does not set itself, and each value is valid."""
    for key, values in grid.items():
        if key in WORKFLOW_KEYS:
            raise HeterodyneError(f"sweep {key}: set by the workflow itself (use datasets, seeds or results)")
        for value in values:
            try:
                resolve_config(base, source, {key: value})
            except HeterodyneError as error:
                raise HeterodyneError(f"sweep {key}: {error}") from None
    for dataset in datasets:
        clash = (set(dataset.overrides) & set(grid)) | (set(dataset.overrides) & set(WORKFLOW_KEYS))
        if clash:
            raise HeterodyneError(f"dataset {dataset.name}: overrides {', '.join(sorted(clash))}, "
                                  "which the sweep or the workflow sets")


def data_shape(dataset: Dataset) -> DataShape:
    """The dataset's shape, from the file or from its simulation settings."""
    if dataset.simulation is not None:
        return simulated_shape(dataset.name, dataset.simulation)
    return file_shape(dataset.path)


def plan_workflow(config: Mapping[str, Any]) -> Plan:
    """All runs of a validated, default-filled workflow config (see workflow/schemas)."""
    analysis = config["analysis"]
    base = read_yaml(Path(analysis))
    datasets = collect_datasets(config["datasets"], f"{config['results']}/{SIMULATED_DIRECTORY}")
    check_sweep(base, analysis, config["sweep"], datasets)
    points = expand_sweep(config["sweep"])
    runs: dict[tuple[str, str, int], Run] = {}
    for dataset in datasets:
        shape = data_shape(dataset)
        for point in points:
            for seed in config["seeds"]:
                overrides = {**dataset.overrides, **point.values,
                             "experimental_data.file_path": dataset.path,
                             "optimization.nlsq.seed": seed, "optimization.cmc.seed": seed}
                where = f"run {dataset.name}/{point.name}/seed{seed}"
                try:
                    resolved = resolve_config(base, analysis, overrides)
                    selected = selection(shape, resolved)
                except HeterodyneError as error:
                    raise HeterodyneError(f"{where}: {error}") from None
                runs[(dataset.name, point.name, seed)] = Run(dataset, point, seed, resolved, selected)
    return Plan(runs, {d.name: d for d in datasets}, list(config["sweep"]), [p.name for p in points],
                list(config["seeds"]), list(config["methods"]))
