"""The analysis run: ``heterodyne --config RUN.yaml [--data F] [--output-dir D | --run-dir R]
[--method nlsq|cmc|all] [--threads N] [--seed S] [--no-plots]``, writing ``D/het_<hash>/``:
result.json, nlsq.npz and (CMC) cmc_samples.npz. The run itself is :func:`heterodyne.analysis.run_analysis`.

Relative paths (in the config or on the command line) are relative to the working directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from heterodyne.errors import HeterodyneError
from heterodyne.methods import RUN_CHOICES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The run options, on the top-level parser."""
    parser.add_argument("--config", type=Path, help="analysis YAML of the run")
    parser.add_argument("--data", type=Path, help="HDF5 file (overrides experimental_data.file_path)")
    parser.add_argument("--output-dir", type=Path, help="output directory (overrides output.output_dir)")
    parser.add_argument("--run-dir", type=Path,
                        help="write the outputs into exactly this directory instead of OUTPUT_DIR/het_<hash>/ "
                             "(for workflows that need paths known in advance)")
    parser.add_argument("--no-plots", action="store_true", help="write no plots (overrides output.plots)")
    parser.add_argument("--method", choices=RUN_CHOICES, default="nlsq",
                        help="nlsq; cmc (NLSQ warm start, reusing a saved NLSQ result); all (NLSQ then CMC)")
    parser.add_argument("--threads", type=int,
                        help="CPU budget of the process (default $HETERODYNE_THREADS or all cores)")
    parser.add_argument("--seed", type=int, help="seed of every random choice (sets optimization.*.seed)")


def config_overrides(args: argparse.Namespace) -> dict:
    """Dotted config paths set by the command line."""
    overrides: dict[str, Any] = {}
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


def run(args: argparse.Namespace) -> int:
    """One analysis run; returns 0, or 2 on a convergence warning (outputs written either way)."""
    from heterodyne.runtime import apply_thread_budget, resolve_threads

    if args.config is None:
        raise HeterodyneError("missing --config RUN.yaml (or a subcommand; see heterodyne --help)")
    threads = resolve_threads(args.threads)
    apply_thread_budget(threads, xla_threads=1 if args.method == "nlsq" else threads)

    from heterodyne.analysis import run_analysis
    from heterodyne.config import read_config

    config = read_config(args.config, config_overrides(args))
    run_dir, code = run_analysis(config, method=args.method, threads=threads, run_dir=args.run_dir)
    print(run_dir / "result.json")
    return code
