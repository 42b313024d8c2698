"""One analysis run as a library: load the configured data, fit by NLSQ, sample by CMC, assemble
result.json and the NPZ arrays, and write the run directory (:mod:`heterodyne.run_directory`).

The command line (``heterodyne --config RUN.yaml``, ``heterodyne nlsq-batch``), the workflow's CMC
jobs (:mod:`heterodyne.cmc_jobs`) and the Python API (:mod:`heterodyne.api`) all run through
here. ``cmc`` warm-starts from the NLSQ result already in the run directory when there is one
(same run id: same version, config and data), and fits NLSQ first otherwise; ``all`` always
fits. Exit codes: 0, or 2 on a convergence warning (outputs are written either way).
"""

from __future__ import annotations

import datetime
import logging
import time
from pathlib import Path

from heterodyne import __version__
from heterodyne.config.tree import AnalysisConfig
from heterodyne.data.configured import load_selected_data
from heterodyne.errors import HeterodyneError
from heterodyne.methods import RUN_CHOICES
from heterodyne.nlsq.result import NlsqResult
from heterodyne.nlsq.run import run_nlsq
from heterodyne.run_directory import Run, write_run

log = logging.getLogger("heterodyne")

EXIT_CONVERGENCE = 2


def data_section(data, n_points: int) -> dict:
    """The ``data`` block of result.json."""
    provenance = data.provenance
    return {
        "layout": provenance["layout"],
        "start_frame": int(data.frames[0]),
        "end_frame": int(data.frames[-1]),
        "n_frames": int(data.frames.size),
        "dt": data.dt,
        "dt_source": provenance["dt_source"],
        "time_origin": data.time_origin,
        "time_origin_source": provenance["time_origin_source"],
        "time_base": provenance["time_base"],
        "q": data.q,
        "phi": data.phi,
        "bins": provenance["selected_bins"],
        "n_angles": int(data.q.size),
        "n_points": n_points,
    }


def saved_nlsq(run_dir: Path, identity: str) -> NlsqResult | None:
    """The NLSQ result already in ``run_dir`` for run ``identity``, or None when there is none."""
    from heterodyne import run_directory

    if not run_directory.is_finished(run_dir):
        return None
    run = run_directory.read_run(run_dir)
    if run.document.get("run_id") != identity:
        return None
    log.info("cmc warm start from the NLSQ result in %s", run_dir)
    return run.nlsq


def new_document(config: AnalysisConfig, data, identity: str, method: str, nlsq: NlsqResult) -> dict:
    """result.json before its status, CMC section and timing (the fields are listed in README.md)."""
    from heterodyne.provenance import git_commit

    return {
        "run_id": identity,
        "heterodyne_version": __version__,
        "git_commit": git_commit(),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "data_file": data.provenance["file"],
        "data_sha256": data.provenance["sha256"],
        "config": config.as_dict(),
        "method": method,
        "status": None,
        "convergence_warning": None,
        "data": data_section(data, nlsq.section["n_points"]),
        "nlsq": nlsq.section,
        "cmc": None,
    }


def set_status(document: dict, warnings: list[str | None]) -> int:
    """Record the convergence outcome in ``document``; returns the exit code (0, or 2 with a warning)."""
    reasons = [w for w in warnings if w]
    document["status"] = "convergence_warning" if reasons else "converged"
    document["convergence_warning"] = "; ".join(reasons) or None
    return EXIT_CONVERGENCE if reasons else 0


def write_run_outputs(run: Run, data=None) -> None:
    """The run directory (:func:`heterodyne.run_directory.write_run`), its viewer file when the
    config's ``output.viewer_file`` is on, then its figures when ``output.plots`` is on."""
    from heterodyne.sidecar import write_configured_sidecar

    write_run(run)
    config = AnalysisConfig.from_resolved(run.document["config"])
    write_configured_sidecar(run.run_dir, config, data)
    if config.output.plots:
        from heterodyne.plots.run_plots import write_run_plots

        write_run_plots(run.run_dir, data=data)


def log_summary(nlsq: dict) -> None:
    """One log line: each varied physics parameter with its standard error (or its status)."""
    parts = []
    for name in nlsq["varied"]:
        error = nlsq["stderr"][name]
        spread = f" ± {error:.3g}" if error is not None else f" ({nlsq['parameter_status'][name]})"
        parts.append(f"{name} = {nlsq[name]:.5g}{spread}")
    log.info("nlsq: %s; reduced chi2 %.4g", ", ".join(parts), nlsq["chi2_reduced"])


def log_cmc_summary(cmc: dict) -> None:
    """One log line: each sampled physics parameter's posterior mean and sd, and the worst R-hat."""
    parts = [f"{name} = {cmc[name]:.5g} ± {cmc['sd'][name]:.3g}" for name in cmc["varied"]]
    log.info("cmc: %s; max shard R-hat %.3f", ", ".join(parts), cmc["max_r_hat"])


def run_analysis(config: AnalysisConfig, *, method: str, threads: int, run_dir: Path | None = None) -> tuple[Path, int]:
    """One run of the resolved ``config`` by ``method`` (nlsq, cmc or all) with a budget of
    ``threads``, written into ``run_dir`` (default ``output_dir/het_<run id>``); returns the run
    directory and the exit code (0, or 2 on a convergence warning)."""
    from heterodyne.provenance import run_id
    from heterodyne.results import check_writable
    from heterodyne.runtime import enable_compile_cache

    started = time.perf_counter()
    if method not in RUN_CHOICES:
        raise HeterodyneError(f"method {method!r}: expected one of {', '.join(RUN_CHOICES)}")
    output_dir = Path(config.output.output_dir)
    check_writable(run_dir or output_dir)
    data = load_selected_data(config)
    loaded = time.perf_counter()
    identity = run_id(config, data.provenance["sha256"])
    run_dir = Path(run_dir or output_dir / f"het_{identity}")
    enable_compile_cache(config.compute.jax_cache_dir)

    nlsq = (saved_nlsq(run_dir, identity) if method == "cmc" else None) or run_nlsq(config, data, threads=threads)
    document = new_document(config, data, identity, method, nlsq)
    timing = {"load_seconds": loaded - started, "nlsq_seconds": nlsq.seconds}
    log_summary(nlsq.section)
    cmc = None
    if method in ("cmc", "all"):
        from heterodyne.cmc.run import run_cmc

        cmc_started = time.perf_counter()
        cmc = run_cmc(config, data, nlsq_result=nlsq.arrays, threads=threads)
        document["cmc"] = cmc.section
        timing["cmc_seconds"] = time.perf_counter() - cmc_started
        log_cmc_summary(cmc.section)
    code = set_status(document, [nlsq.warning] + ([cmc.warning] if cmc is not None else []))
    document["timing"] = {**timing, "total_seconds": time.perf_counter() - started, "threads": threads}
    write_run_outputs(Run(run_dir, document, nlsq, cmc), data)
    if code:
        log.warning("convergence warning: %s", document["convergence_warning"])
    return run_dir, code

