"""The Python API, for notebooks: from a file to a posterior in four calls.

    import heterodyne as ht

    config = ht.load_config("run.yaml")             # a frozen AnalysisConfig; or a dict of the same sections
    data = ht.load_data(config)                      # or ht.load_data("file.h5", q=…, phi=…)
    fit = ht.fit_nlsq(config, data)                  # fit.values, fit.stderr, fit.covariance
    posterior = ht.sample_cmc(config, data, nlsq_result=fit)   # posterior.mean, .sd, .to_arviz()

The results are the records a run directory is written from and read back into
(:mod:`heterodyne.run_directory`): a :class:`heterodyne.nlsq.result.NlsqResult` (``fit.section``
is result.json's ``nlsq`` section, ``fit.arrays`` the arrays of nlsq.npz), a
:class:`heterodyne.cmc.result.CmcResult` (``posterior.section`` is the ``cmc`` section,
``posterior.arrays`` the arrays of cmc_samples.npz; the fields are listed in README.md) and a
:class:`heterodyne.run_directory.Run` from :func:`load_run`. Nothing here sets thread budgets: a
notebook's jax uses every core of the machine.

Sharded CMC as the workflow runs it: :func:`cmc_plan`, :func:`sample_cmc_shard` per shard (one per
process or machine), :func:`combine_cmc`; :func:`load_run` reads any finished run directory back
and :func:`plot_results` draws results held in memory.

JAX in float64 for the whole process: importing this module, :func:`load_config` and
:func:`load_data` do not touch JAX, but the first call that computes with it (:func:`fit_nlsq`,
:func:`sample_cmc`, …) switches ``jax_enable_x64`` on for the process (:mod:`heterodyne.jaxconfig`),
and it stays on, so a notebook's other JAX code creates float64 arrays from then on. The package
needs float64; JAX's scoped switch (``with jax.enable_x64(True)``) holds only in the thread that
enters it, while the fit (:mod:`heterodyne.nlsq.projection`) and the sampler
(:mod:`heterodyne.cmc.sampler`) compute in worker threads of their own, and switching the global
flag back after each call would leave the package's modules, imported once, computing in float32.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from heterodyne.cmc.result import CmcResult
from heterodyne.nlsq.result import NlsqResult
from heterodyne.run_directory import Run

if TYPE_CHECKING:
    from heterodyne.config.tree import AnalysisConfig

def load_config(source: str | Path | AnalysisConfig | Mapping[str, Any],
                overrides: dict[str, Any] | None = None) -> AnalysisConfig:
    """The resolved analysis config (every default filled in, validated; a frozen
    :class:`heterodyne.config.AnalysisConfig`) of a YAML file, of a config, or of a dict with the
    same sections; ``overrides`` maps dotted keys to values."""
    from heterodyne import config

    if isinstance(source, config.AnalysisConfig):
        return config.resolve_config(source.as_dict(), "<config>", overrides)
    if isinstance(source, Mapping):
        return config.resolve_config(dict(source), "<config dict>", overrides)
    return config.read_config(source, overrides)


def _config_of(source: AnalysisConfig | Mapping[str, Any]) -> AnalysisConfig:
    """``source`` itself when it is a config tree, else the tree of the mapping (:func:`load_config`)."""
    from heterodyne.config import AnalysisConfig

    return source if isinstance(source, AnalysisConfig) else load_config(source)


def load_data(source: str | Path | AnalysisConfig | Mapping[str, Any], **selection):
    """The selected bins and frames (:class:`heterodyne.data.XpcsData`) of a config, or of a file
    with ``selection`` keywords of :func:`heterodyne.data.load_file` (``q``, ``phi``,
    ``start_frame``, ``end_frame``, ``dt``, tolerances)."""
    if not isinstance(source, str | Path):
        if selection:
            raise TypeError("load_data(config) takes no selection keywords: set them in the config")
        from heterodyne.data.configured import load_selected_data

        return load_selected_data(_config_of(source))
    from heterodyne.data import load_file

    return load_file(source, **selection)


def fit_nlsq(config: AnalysisConfig | Mapping[str, Any], data, *, progress: bool = False,
             threads: int | None = None) -> NlsqResult:
    """The NLSQ fit of ``data`` under the resolved ``config`` (``progress``: log the iterations), its
    residual passes in up to ``threads`` threads (default: every usable core)."""
    from heterodyne.nlsq.run import run_nlsq
    from heterodyne.runtime import resolve_threads

    return run_nlsq(_config_of(config), data, progress=progress, threads=resolve_threads(threads))


def nlsq_arrays_of(nlsq_result: NlsqResult | Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    """The nlsq.npz arrays of ``nlsq_result``, refused with one line when one that CMC reads is missing."""
    from heterodyne.run_directory import NLSQ_ARRAYS, check_arrays

    arrays = nlsq_result.arrays if isinstance(nlsq_result, NlsqResult) else nlsq_result
    check_arrays(arrays, NLSQ_ARRAYS, "nlsq_result")
    return arrays


def sample_cmc(config: AnalysisConfig | Mapping[str, Any], data, *, nlsq_result: NlsqResult | Mapping[str, np.ndarray],
               threads: int | None = None) -> CmcResult:
    """The CMC posterior of ``data`` under the resolved ``config``, warm-started from
    ``nlsq_result`` (a :class:`NlsqResult`, or the arrays of a run's nlsq.npz, e.g.
    ``numpy.load("RUN/nlsq.npz")``); shards and chains run side by side in up to ``threads``
    threads (default: every usable core)."""
    from heterodyne.cmc.run import run_cmc
    from heterodyne.runtime import resolve_threads

    return run_cmc(_config_of(config), data, nlsq_result=nlsq_arrays_of(nlsq_result), threads=resolve_threads(threads))


def cmc_plan(config: AnalysisConfig | Mapping[str, Any]) -> dict:
    """The CMC shard plan of the resolved ``config`` on its configured data selection (read from
    the file's shape only): n_shards, n_points, shard_sizes, seed, max_points_per_shard, reason."""
    from heterodyne.cmc_jobs import shard_plan_of

    return shard_plan_of(_config_of(config))


def sample_cmc_shard(config: AnalysisConfig | Mapping[str, Any], data, *,
                     nlsq_result: NlsqResult | Mapping[str, np.ndarray],
                     shard: int, path: str | Path, threads: int | None = None) -> Path:
    """Sample shard ``shard`` (0-based, below the plan's ``n_shards``, see :func:`cmc_plan`) of the
    CMC of ``data`` under ``config``, warm-started from ``nlsq_result``, and write its shard file
    at ``path``: the file ``heterodyne cmc-shard`` writes for the same inputs and seed. Up to
    ``threads`` of its chains run side by side (default: every usable core); the draws do not
    depend on it. Returns the path."""
    from heterodyne.cmc_jobs import write_shard
    from heterodyne.runtime import resolve_threads

    return write_shard(_config_of(config), data, nlsq_arrays_of(nlsq_result), shard=shard, path=Path(path),
                       threads=resolve_threads(threads))


def combine_cmc(config: AnalysisConfig | Mapping[str, Any], data, *, nlsq_result: NlsqResult,
                shard_files: list[str | Path],
                run_dir: str | Path | None = None) -> CmcResult:
    """The CMC posterior combined from ``shard_files`` (every shard of the plan, in any order, as
    written by :func:`sample_cmc_shard` or ``heterodyne cmc-shard``): what ``heterodyne
    cmc-combine`` computes from the same files. With ``run_dir``, also writes it there as a
    complete CMC run (result.json, nlsq.npz, cmc_samples.npz; figures when ``output.plots``)."""
    import time

    from heterodyne.cmc_jobs import combine_shards, write_cmc_run

    started = time.perf_counter()
    resolved = _config_of(config)
    combined = combine_shards(resolved, data, nlsq_arrays_of(nlsq_result), [Path(p) for p in shard_files])
    if run_dir is not None:
        write_cmc_run(Path(run_dir), resolved, data, nlsq_result, combined, started=started)
    return combined


def compare_models(config: AnalysisConfig | Mapping[str, Any], data, nlsq_result: NlsqResult, *,
                   threads: int | None = None) -> list[dict]:
    """The rows of model_comparison.csv: each named reduction (:data:`heterodyne.comparison.REDUCTIONS`)
    tested against ``nlsq_result``, the full fit of ``data`` under ``config``, and fitted on ``data``
    (:func:`heterodyne.comparison.compare`)."""
    from heterodyne.comparison import compare
    from heterodyne.runtime import resolve_threads

    return compare(_config_of(config), data, nlsq_result, threads=resolve_threads(threads))


def load_run(run_dir: str | Path) -> Run:
    """The run written in ``run_dir`` (by the command line, the workflow or :func:`combine_cmc`),
    as the results the API returns; a missing or foreign file is a HeterodyneError naming it."""
    from heterodyne.run_directory import read_run

    return read_run(Path(run_dir))


def plot_results(directory: str | Path, data, nlsq_result: NlsqResult, cmc_result: CmcResult | None = None, *,
                 image_format: str = "png") -> list[Path]:
    """The run's figures from results held in memory, written under ``directory`` (the figures
    ``heterodyne plot`` draws from a run directory: per-angle fit maps, one-time cuts, rates and,
    with ``cmc_result``, traces and a corner plot); ``data`` is the data that were fitted. Returns
    the paths."""
    from heterodyne.plots.run_plots import write_plots

    return write_plots(nlsq_result, cmc_result, data, Path(directory), image_format)


def simulate(path: str | Path, **spec) -> dict:
    """Write a simulated result file at ``path`` (and its truth beside it, ``<path>.truth.json``);
    ``spec`` holds fields of :class:`heterodyne.simulation.SimulationSpec`. Returns the truth."""
    import json

    from heterodyne.simulation import SimulationSpec, simulate_dataset

    return json.loads(simulate_dataset(path, SimulationSpec(**spec)).read_text())
