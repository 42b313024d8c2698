"""The analysis run: ``heterodyne --config RUN.yaml [--data F] [--output-dir D] [--method nlsq]
[--threads N] [--seed S]``, writing ``D/het_<hash>/result.json`` and ``nlsq.npz``.

Relative paths (in the config or on the command line) are relative to the working directory.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import time
from pathlib import Path

from heterodyne import __version__
from heterodyne.errors import HeterodyneError

log = logging.getLogger("heterodyne")

EXIT_CONVERGENCE = 2
METHODS = ("nlsq",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The run options, on the top-level parser."""
    parser.add_argument("--config", type=Path, help="analysis YAML of the run")
    parser.add_argument("--data", type=Path, help="HDF5 file (overrides experimental_data.file_path)")
    parser.add_argument("--output-dir", type=Path, help="output directory (overrides output.output_dir)")
    parser.add_argument("--run-dir", type=Path,
                        help="write the outputs into exactly this directory instead of OUTPUT_DIR/het_<hash>/ "
                             "(for workflows that need paths known in advance)")
    parser.add_argument("--no-plots", action="store_true", help="write no plots (overrides output.plots)")
    parser.add_argument("--method", choices=METHODS, default="nlsq", help="analysis method (default nlsq)")
    parser.add_argument("--threads", type=int, help="CPU budget of the process (default $HETERODYNE_THREADS or all cores)")
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
        "q": data.q,
        "phi": data.phi,
        "bins": provenance["selected_bins"],
        "n_angles": int(data.q.size),
        "n_points": n_points,
    }


def result_document(config: dict, data, problem, result, noise_info: dict, method: str) -> dict:
    """result.json without its timing block (architecture.md §3)."""
    from heterodyne.nlsq.report import nlsq_section
    from heterodyne.provenance import git_commit, run_id

    sha256 = data.provenance["sha256"]
    return {
        "run_id": run_id(config, sha256),
        "heterodyne_version": __version__,
        "git_commit": git_commit(),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "data_file": data.provenance["file"],
        "data_sha256": sha256,
        "config": config,
        "method": method,
        "status": "converged" if result.converged else "convergence_warning",
        "convergence_warning": result.convergence_warning,
        "data": data_section(data, problem.points.size),
        "nlsq": nlsq_section(result, problem, noise_info, config["scaling"]["mode"]),
        "cmc": None,
    }


def log_summary(nlsq: dict) -> None:
    """One log line: each varied physics parameter with its standard error (or its status)."""
    parts = []
    for name in nlsq["varied"]:
        error = nlsq["stderr"][name]
        spread = f" ± {error:.3g}" if error is not None else f" ({nlsq['parameter_status'][name]})"
        parts.append(f"{name} = {nlsq[name]:.5g}{spread}")
    log.info("nlsq: %s; reduced chi2 %.4g", ", ".join(parts), nlsq["chi2_reduced"])


def run(args: argparse.Namespace) -> int:
    """One analysis run; returns 0, or 2 when the fit did not converge (outputs written either way)."""
    from heterodyne.runtime import apply_thread_budget, resolve_threads

    started = time.perf_counter()
    if args.config is None:
        raise HeterodyneError("missing --config RUN.yaml (or a subcommand; see heterodyne --help)")
    threads = resolve_threads(args.threads)
    apply_thread_budget(threads)

    from heterodyne.config import load_config
    from heterodyne.results import check_writable, write_json, write_npz

    config = load_config(args.config, config_overrides(args))
    output_dir = Path(config["output"]["output_dir"])
    check_writable(args.run_dir or output_dir)
    data = load_selected_data(config)
    loaded = time.perf_counter()

    from heterodyne.nlsq.progress import Progress
    from heterodyne.nlsq.report import nlsq_arrays
    from heterodyne.nlsq.setup import build_problem
    from heterodyne.nlsq.solve import fit
    from heterodyne.runtime import enable_compile_cache

    enable_compile_cache(config["compute"]["jax_cache_dir"])
    problem, noise_info = build_problem(config, c2=data.c2, q=data.q, phi=data.phi, t=data.times, dt=data.dt)
    result = fit(problem, config["optimization"]["nlsq"], Progress())

    document = result_document(config, data, problem, result, noise_info, args.method)
    run_dir = args.run_dir or output_dir / f"het_{document['run_id']}"
    document["timing"] = {
        "load_seconds": loaded - started,
        "nlsq_seconds": result.wall_time,
        "total_seconds": time.perf_counter() - started,
        "threads": threads,
    }
    write_npz(run_dir / "nlsq.npz", nlsq_arrays(result, problem))
    write_json(run_dir / "result.json", document)
    if config["output"]["plots"]:
        from heterodyne.plots.run_plots import write_run_plots

        write_run_plots(run_dir, data=data)
    log_summary(document["nlsq"])
    print(run_dir / "result.json")
    if not result.converged:
        log.warning("did not converge: %s", result.convergence_warning)
        return EXIT_CONVERGENCE
    return 0
