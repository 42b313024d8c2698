"""The analysis run: ``heterodyne --config RUN.yaml [--data F] [--output-dir D | --run-dir R]
[--method nlsq|cmc|all] [--threads N] [--seed S] [--no-plots]``, writing ``D/het_<hash>/``:
result.json, nlsq.npz and (CMC) cmc_samples.npz.

``cmc`` warm-starts from the NLSQ result already in the run directory when there is one (same
run id: same version, config and data), and fits NLSQ first otherwise; ``all`` always fits.

Relative paths (in the config or on the command line) are relative to the working directory.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from heterodyne import __version__
from heterodyne.errors import HeterodyneError

log = logging.getLogger("heterodyne")

EXIT_CONVERGENCE = 2
METHODS = ("nlsq", "cmc", "all")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The run options, on the top-level parser."""
    parser.add_argument("--config", type=Path, help="analysis YAML of the run")
    parser.add_argument("--data", type=Path, help="HDF5 file (overrides experimental_data.file_path)")
    parser.add_argument("--output-dir", type=Path, help="output directory (overrides output.output_dir)")
    parser.add_argument("--run-dir", type=Path,
                        help="write the outputs into exactly this directory instead of OUTPUT_DIR/het_<hash>/ "
                             "(for workflows that need paths known in advance)")
    parser.add_argument("--no-plots", action="store_true", help="write no plots (overrides output.plots)")
    parser.add_argument("--method", choices=METHODS, default="nlsq",
                        help="nlsq; cmc (NLSQ warm start, reusing a saved NLSQ result); all (NLSQ then CMC)")
    parser.add_argument("--threads", type=int,
                        help="CPU budget of the process (default $HETERODYNE_THREADS or all cores)")
    parser.add_argument("--seed", type=int, help="seed of every random choice (sets optimization.*.seed)")


def config_overrides(args: argparse.Namespace) -> dict:
    """Dotted config paths set by the command line."""
    overrides = {}
    if args.data is not None:
        overrides["experimental_data.file_path"] = str(args.data)
    if args.output_dir is not None:
        overrides["output.output_dir"] = str(args.output_dir)
    if args.seed is not None:
        overrides["optimization.nlsq.seed"] = args.seed
        overrides["optimization.cmc.seed"] = args.seed
    if args.no_plots:
        overrides["output.plots"] = False
    return overrides


def load_selected_data(config: dict):
    """The data selected by the config's experimental_data and analyzer_parameters sections."""
    from heterodyne.data import load_data

    selection = config["experimental_data"]
    frames = config["analyzer_parameters"]
    if selection["file_path"] is None:
        raise HeterodyneError("no data file: give --data or set experimental_data.file_path")
    return load_data(
        selection["file_path"],
        q=selection["q"], q_tolerance=selection["q_tolerance"],
        phi=selection["phi"], phi_tolerance=selection["phi_tolerance"],
        start_frame=frames["start_frame"], end_frame=frames["end_frame"], dt=frames["dt"],
        time_origin=frames["time_origin"],
    )


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


@dataclass(frozen=True)
class NlsqOutcome:
    """The NLSQ stage as it is written: result.json section, nlsq.npz arrays, warning, seconds."""

    section: dict
    arrays: dict
    warning: str | None
    seconds: float


def fit_nlsq(config: dict, data) -> NlsqOutcome:
    """Fit the config's NLSQ problem to ``data``."""
    from heterodyne.nlsq.progress import Progress
    from heterodyne.nlsq.report import nlsq_arrays, nlsq_section
    from heterodyne.nlsq.setup import build_problem
    from heterodyne.nlsq.solve import fit

    problem, noise_info = build_problem(config, c2=data.c2, q=data.q, phi=data.phi, t=data.times, dt=data.dt)
    result = fit(problem, config["optimization"]["nlsq"], Progress())
    return NlsqOutcome(nlsq_section(result, problem, noise_info, config["scaling"]["mode"]),
                       nlsq_arrays(result, problem), result.convergence_warning, result.wall_time)


def saved_nlsq(run_dir: Path, identity: str) -> NlsqOutcome | None:
    """The NLSQ result already in ``run_dir`` for run ``identity``, or None when there is none."""
    import json

    import numpy as np

    result_path, npz_path = run_dir / "result.json", run_dir / "nlsq.npz"
    if not (result_path.is_file() and npz_path.is_file()):
        return None
    try:
        document = json.loads(result_path.read_text())
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError) as error:
        raise HeterodyneError(f"{run_dir}: unreadable NLSQ result ({error})") from error
    if document.get("run_id") != identity or not document.get("nlsq"):
        return None
    log.info("cmc warm start from the NLSQ result in %s", run_dir)
    return NlsqOutcome(document["nlsq"], arrays, document["nlsq"]["convergence_warning"], 0.0)


def new_document(config: dict, data, identity: str, method: str, nlsq: NlsqOutcome) -> dict:
    """result.json before its status, CMC section and timing (architecture.md §3)."""
    from heterodyne.provenance import git_commit

    return {
        "run_id": identity,
        "heterodyne_version": __version__,
        "git_commit": git_commit(),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "data_file": data.provenance["file"],
        "data_sha256": data.provenance["sha256"],
        "config": config,
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


def write_run(run_dir: Path, document: dict, arrays: dict[str, dict], data=None) -> None:
    """The NPZ files, then result.json (the run's completion mark), then the plots if enabled."""
    from heterodyne.results import write_json, write_npz

    for name, content in arrays.items():
        write_npz(run_dir / name, content)
    write_json(run_dir / "result.json", document)
    if document["config"]["output"]["plots"]:
        from heterodyne.plots.run_plots import write_run_plots

        write_run_plots(run_dir, data=data)


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


def run(args: argparse.Namespace) -> int:
    """One analysis run; returns 0, or 2 on a convergence warning (outputs written either way)."""
    from heterodyne.runtime import apply_thread_budget, resolve_threads

    started = time.perf_counter()
    if args.config is None:
        raise HeterodyneError("missing --config RUN.yaml (or a subcommand; see heterodyne --help)")
    threads = resolve_threads(args.threads)
    apply_thread_budget(threads)

    from heterodyne.config import load_config
    from heterodyne.provenance import run_id
    from heterodyne.results import check_writable
    from heterodyne.runtime import enable_compile_cache

    config = load_config(args.config, config_overrides(args))
    output_dir = Path(config["output"]["output_dir"])
    check_writable(args.run_dir or output_dir)
    data = load_selected_data(config)
    loaded = time.perf_counter()
    identity = run_id(config, data.provenance["sha256"])
    run_dir = args.run_dir or output_dir / f"het_{identity}"
    enable_compile_cache(config["compute"]["jax_cache_dir"])

    nlsq = (saved_nlsq(run_dir, identity) if args.method == "cmc" else None) or fit_nlsq(config, data)
    document = new_document(config, data, identity, args.method, nlsq)
    arrays = {"nlsq.npz": nlsq.arrays}
    warnings = [nlsq.warning]
    timing = {"load_seconds": loaded - started, "nlsq_seconds": nlsq.seconds}
    log_summary(nlsq.section)
    if args.method in ("cmc", "all"):
        from heterodyne.cmc.run import run_cmc

        cmc_started = time.perf_counter()
        document["cmc"], arrays["cmc_samples.npz"], cmc_warning = run_cmc(
            config, data, nlsq_result=nlsq.arrays, threads=threads)
        warnings.append(cmc_warning)
        timing["cmc_seconds"] = time.perf_counter() - cmc_started
        log_cmc_summary(document["cmc"])
    code = set_status(document, warnings)
    document["timing"] = {**timing, "total_seconds": time.perf_counter() - started, "threads": threads}
    write_run(run_dir, document, arrays, data)
    print(run_dir / "result.json")
    if code:
        log.warning("convergence warning: %s", document["convergence_warning"])
    return code
