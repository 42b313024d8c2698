"""CMC in separate jobs, as the workflow runs it: the shard plan, one shard sampled to a file, and
the shard files combined into a complete CMC run directory.

A shard file (:func:`heterodyne.cmc.report.shard_file_arrays`) carries the run id (version,
config and data, :func:`heterodyne.provenance.run_id`), so the combining step refuses shards of
another run or plan. Shard k's draws depend only on the config, the data, the NLSQ warm start and
the seed, never on which process or how many threads sampled it, so the combination equals
``heterodyne --method cmc`` (:func:`heterodyne.cmc.run.run_cmc`) of the same inputs.

The command line (``heterodyne cmc-plan``, ``cmc-shard``, ``cmc-combine``) and the Python API
(:func:`heterodyne.api.sample_cmc_shard`, :func:`heterodyne.api.combine_cmc`) both run through here.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from heterodyne.analysis import log_cmc_summary, new_document, saved_nlsq, set_status, write_run_outputs
from heterodyne.cmc.result import CmcResult
from heterodyne.config.tree import AnalysisConfig
from heterodyne.data.configured import load_selected_data
from heterodyne.errors import HeterodyneError
from heterodyne.nlsq.result import NlsqResult
from heterodyne.run_directory import Run


@dataclass(frozen=True)
class CmcInputs:
    """What a CMC job starts from: the config, its data, the run id and the saved NLSQ result."""

    config: AnalysisConfig
    data: object
    identity: str
    nlsq: NlsqResult


def run_identity(config: AnalysisConfig, data) -> str:
    """The run id of ``config`` on ``data`` (:func:`heterodyne.provenance.run_id`)."""
    from heterodyne.provenance import run_id

    return run_id(config, data.provenance["sha256"])


def shard_plan_of(config: AnalysisConfig, n_points: int | None = None) -> dict:
    """The CMC shard plan of ``config`` for ``n_points`` points (default: the configured data
    selection, read from the file's shape only), as :meth:`heterodyne.cmc.plan.ShardPlan.describe`."""
    from heterodyne.cmc.plan import shard_plan

    if n_points is None:
        from heterodyne.batch.shape import file_shape, selection

        path = config.experimental_data.file_path
        if path is None:
            raise HeterodyneError("no data file: give --data, --n-points or set experimental_data.file_path")
        n_points = selection(file_shape(path), config).n_points
    if n_points < 1:
        raise HeterodyneError(f"--n-points {n_points}: expected a positive number of points")
    return shard_plan(n_points, config.optimization.cmc).describe()


def cmc_inputs(config_path: Path, data_file: Path | None, nlsq_dir: Path) -> CmcInputs:
    """Config, data and NLSQ result of a CMC job; the NLSQ result must be of this config and data
    (same run id)."""
    from heterodyne.config import read_config
    from heterodyne.runtime import enable_compile_cache

    overrides = {"experimental_data.file_path": str(data_file)} if data_file is not None else {}
    config = read_config(config_path, overrides)
    data = load_selected_data(config)
    identity = run_identity(config, data)
    nlsq = saved_nlsq(nlsq_dir, identity)
    if nlsq is None:
        raise HeterodyneError(f"{nlsq_dir}: no NLSQ result of this config and data (run id {identity}); "
                              f"run heterodyne --config {config_path} --method nlsq --run-dir {nlsq_dir} first")
    enable_compile_cache(config.compute.jax_cache_dir)
    return CmcInputs(config, data, identity, nlsq)


def write_shard(config: AnalysisConfig, data, nlsq_arrays, *, shard: int, path: Path, threads: int) -> Path:
    """Sample shard ``shard`` (0-based) of the CMC plan of ``config`` on ``data``, warm-started
    from ``nlsq_arrays`` (the arrays of nlsq.npz), with up to ``threads`` of its chains side by
    side; write its shard file at ``path`` (atomically) and return ``path``."""
    from heterodyne.cmc.report import shard_file_arrays
    from heterodyne.cmc.setup import prepare, sample_one
    from heterodyne.cmc.workers import shard_layout
    from heterodyne.results import write_npz

    identity = run_identity(config, data)
    setup = prepare(config, data, nlsq_arrays)
    if not 0 <= shard < setup.plan.n_shards:
        raise HeterodyneError(f"--shard {shard}: the plan has shards 0..{setup.plan.n_shards - 1}")
    layout = shard_layout(threads, 1, setup.settings.num_chains, configured_workers=1)
    draws = sample_one(setup, shard, layout.side_by_side)
    write_npz(path, shard_file_arrays(draws, setup.names, identity, setup.plan.n_shards))
    return Path(path)


def combine_shards(config: AnalysisConfig, data, nlsq_arrays, shard_files: list[Path]) -> CmcResult:
    """The consensus of ``shard_files``, which must be every shard of the CMC plan of ``config`` on
    ``data`` warm-started from ``nlsq_arrays`` (in any order; a missing, foreign or duplicate shard
    is a HeterodyneError naming the file)."""
    from heterodyne.cmc.report import read_shard_files
    from heterodyne.cmc.run import report
    from heterodyne.cmc.setup import prepare

    setup = prepare(config, data, nlsq_arrays)
    shards = read_shard_files(shard_files, run_identity(config, data), setup.names)
    return report(setup, shards, nlsq_arrays)


def write_cmc_run(run_dir: Path, config: AnalysisConfig, data, nlsq: NlsqResult, cmc: CmcResult, *,
                  started: float) -> int:
    """Write ``run_dir`` as a complete CMC run (result.json of method cmc with the NLSQ section,
    nlsq.npz, cmc_samples.npz, and figures when ``output.plots`` is on); ``started`` is the
    ``time.perf_counter()`` of the combining step's start. Returns 0, or 2 on a convergence warning."""
    document = new_document(config, data, run_identity(config, data), "cmc", nlsq)
    document["cmc"] = cmc.section
    code = set_status(document, [nlsq.warning, cmc.warning])
    document["timing"] = {"combine_seconds": time.perf_counter() - started, "cmc_shard_seconds": cmc.shard_seconds}
    write_run_outputs(Run(Path(run_dir), document, nlsq, cmc), data)
    log_cmc_summary(document["cmc"])
    return code


def shard_job(config_path: Path, data_file: Path | None, nlsq_dir: Path, *, shard: int, path: Path,
              threads: int) -> Path:
    """One workflow shard job: :func:`write_shard` of the config at ``config_path`` (data file
    ``data_file`` if given), warm-started from the NLSQ run in ``nlsq_dir``."""
    inputs = cmc_inputs(config_path, data_file, nlsq_dir)
    return write_shard(inputs.config, inputs.data, inputs.nlsq.arrays, shard=shard, path=path, threads=threads)


def combine_job(config_path: Path, data_file: Path | None, nlsq_dir: Path, shard_files: list[Path],
                run_dir: Path, *, plots: bool = True) -> int:
    """The workflow's combining job: the shard files of the config at ``config_path`` combined and
    written as the CMC run ``run_dir`` (no figures unless ``plots`` and ``output.plots``). Returns
    0, or 2 on a convergence warning (everything written either way)."""
    started = time.perf_counter()
    inputs = cmc_inputs(config_path, data_file, nlsq_dir)
    config = inputs.config
    if not plots:
        config = dataclasses.replace(config, output=dataclasses.replace(config.output, plots=False))
    combined = combine_shards(config, inputs.data, inputs.nlsq.arrays, shard_files)
    return write_cmc_run(run_dir, config, inputs.data, inputs.nlsq, combined, started=started)
