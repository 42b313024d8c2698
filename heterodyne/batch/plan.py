"""From the workflow config to the runs: datasets × sweep points × seeds, each validated and sized.

Every run's analysis config is resolved here exactly as ``heterodyne resolve-config`` will
write it (base config, the dataset's overrides, the sweep values, the data file and the seed),
so a bad sweep key, a bad value or an impossible selection stops the workflow before any job.

With windows (no sweep), a dataset also gets a run per window along its age
(:mod:`heterodyne.age.windows`) and seed, named after its frames (``window=0101-0200``): the
frames and the time-local reduction as overrides, the inherited values held at their configured
initial values here (their job's run.yaml takes them from the global run's result). A dataset's
windows are the workflow's ``windows`` with its own over them (:mod:`heterodyne.batch.windows`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heterodyne.age.windows import check_parameter_lists, window_bounds, window_overrides
from heterodyne.batch import resources
from heterodyne.batch.datasets import Dataset, collect_datasets
from heterodyne.batch.shape import DataShape, Selection, file_shape, frame_block, selection, simulated_shape
from heterodyne.batch.sweep import SweepPoint, expand_sweep
from heterodyne.batch.windows import resolve_windows
from heterodyne.config import AnalysisConfig, resolve_config
from heterodyne.config.yaml_io import read_yaml
from heterodyne.errors import HeterodyneError
from heterodyne.parameters import N_PHYSICS

SIMULATED_DIRECTORY = "simulated"
WORKFLOW_KEYS = ("experimental_data.file_path", "optimization.nlsq.seed", "optimization.cmc.seed",
                 "output.output_dir")
"""Keys the workflow sets itself (datasets, seeds, run directories): not for sweeps or sheets."""
NO_WINDOWS_WITH_A_SWEEP = "not combined with a sweep (each dataset's windows lie beside its one global run)"


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
    """Every run of the workflow, keyed by (dataset, point, seed), and what the summary needs;
    ``points`` are the sweep's, ``windows`` each dataset's window names in age order (none
    without windows) and ``window_settings`` each dataset's width, step, free and inherit (None
    without windows)."""

    runs: dict[tuple[str, str, int], Run]
    datasets: dict[str, Dataset]
    sweep_keys: list[str]
    points: list[str]
    seeds: list[int]
    methods: list[str]
    windows: dict[str, list[str]]
    window_settings: dict[str, Mapping[str, Any] | None]

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
    default_windows = config.get("windows")
    if default_windows is not None and config["sweep"]:
        raise HeterodyneError(f"windows: {NO_WINDOWS_WITH_A_SWEEP}")
    if default_windows is not None:
        check_parameter_lists(default_windows["free"], default_windows["inherit"])
    points = expand_sweep(config["sweep"])
    runs: dict[tuple[str, str, int], Run] = {}
    windows: dict[str, list[str]] = {}
    window_settings: dict[str, Mapping[str, Any] | None] = {}
    for dataset in datasets:
        shape = data_shape(dataset)
        for point in points:
            for seed in config["seeds"]:
                runs[(dataset.name, point.name, seed)] = planned_run(base, analysis, dataset, shape, point, seed)
        settings = window_settings[dataset.name] = resolve_windows(default_windows, dataset.windows, dataset.name)
        if settings is not None and config["sweep"]:
            raise HeterodyneError(f"dataset {dataset.name}: windows: {NO_WINDOWS_WITH_A_SWEEP}")
        windows[dataset.name] = []
        if settings is not None:
            for window in dataset_windows(dataset, shape, runs[(dataset.name, points[0].name, config["seeds"][0])],
                                          settings):
                windows[dataset.name].append(window.name)
                for seed in config["seeds"]:
                    runs[(dataset.name, window.name, seed)] = planned_run(base, analysis, dataset, shape, window, seed)
    return Plan(runs, {d.name: d for d in datasets}, list(config["sweep"]), [p.name for p in points],
                list(config["seeds"]), list(config["methods"]), windows, window_settings)


def planned_run(base: dict[str, Any], analysis: str, dataset: Dataset, shape: DataShape, point: SweepPoint,
                seed: int) -> Run:
    """One run, its config resolved and its selection checked against the data's shape."""
    overrides = {**dataset.overrides, **point.values, "experimental_data.file_path": dataset.path,
                 "optimization.nlsq.seed": seed, "optimization.cmc.seed": seed}
    try:
        resolved = resolve_config(base, analysis, overrides)
        selected = selection(shape, resolved)
    except HeterodyneError as error:
        raise HeterodyneError(f"run {dataset.name}/{point.name}/seed{seed}: {error}") from None
    return Run(dataset, point, seed, resolved, selected)


def dataset_windows(dataset: Dataset, shape: DataShape, global_run: Run,
                    settings: Mapping[str, Any]) -> list[SweepPoint]:
    """The dataset's windows over the frames its global run selects, as points of overrides."""
    frames = frame_block(shape, global_run.config)
    bounds = window_bounds(frames.start, frames.end, settings["width"], settings["step"],
                           where=f"dataset {dataset.name}: windows")
    return [SweepPoint(window.name, window_overrides(window, settings["free"], settings["inherit"]))
            for window in bounds]
