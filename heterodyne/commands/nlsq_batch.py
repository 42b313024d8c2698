"""``heterodyne nlsq-batch RUN.yaml ... [--threads N] [--no-plots]``: fit several run configs in one
command, each into ``nlsq/`` beside its config (``A/run.yaml`` → ``A/nlsq/``), exactly as
``heterodyne --config A/run.yaml --run-dir A/nlsq --threads T`` would.

A process pays interpreter start-up, the numpy/jax/scipy imports and JAX tracing (about 1.5 s)
before its first fit, as long as a whole fit of a small window. Here W = min(N, runs) worker
processes pay it once for all their fits, with ⌊N / W⌋ threads each. Exit code: 0, or 2 when
any run ends with a convergence warning (every run's outputs written); 1 on the first error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from heterodyne.errors import HeterodyneError

RUN_DIRECTORY = "nlsq"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``nlsq-batch`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "nlsq-batch",
        help="fit several run configs in one command, each into nlsq/ beside its config",
        description="NLSQ fits of several run configs (e.g. from resolve-config), each written into "
        "the directory 'nlsq' beside its config, with up to --threads fits at once.",
    )
    parser.add_argument("configs", type=Path, nargs="+", metavar="RUN.yaml", help="run configs (one per directory)")
    parser.add_argument("--threads", type=int,
                        help="CPU budget: this many fits at once, one process each "
                             "(default $HETERODYNE_THREADS or all cores)")
    parser.add_argument("--no-plots", action="store_true", help="write no plots (overrides output.plots)")
    return parser


def fit_config(config: Path, run_dir: Path, threads: int, plots: bool) -> int:
    """One NLSQ run of ``config`` into ``run_dir`` (:func:`heterodyne.analysis.run_analysis`), as
    the plain run command does it; prints its result.json and returns its exit code."""
    from heterodyne.runtime import apply_thread_budget

    apply_thread_budget(threads, xla_threads=1)

    from heterodyne.analysis import run_analysis
    from heterodyne.config import read_config

    resolved = read_config(config, {} if plots else {"output.plots": False})
    run_dir, code = run_analysis(resolved, method="nlsq", threads=threads, run_dir=run_dir)
    print(run_dir / "result.json")
    return code


def fit_tasks(configs: list[Path], threads: int, plots: bool) -> list[tuple[Path, Path, int, bool]]:
    """The arguments of :func:`fit_config` for each config; refuses missing files and shared
    directories."""
    directories = [config.parent.resolve() for config in configs]
    for config, directory in zip(configs, directories, strict=True):
        if not config.is_file():
            raise HeterodyneError(f"{config}: no such file")
        if directories.count(directory) > 1:
            raise HeterodyneError(f"{config}: another config is in the same directory (one run per directory)")
    return [(config, config.parent / RUN_DIRECTORY, threads, plots) for config in configs]


def run(args: argparse.Namespace) -> int:
    """Fit every config; returns 0, or 2 when any run has a convergence warning."""
    from heterodyne.process_pool import map_in_processes
    from heterodyne.runtime import resolve_threads

    threads = resolve_threads(args.threads)
    workers = min(threads, len(args.configs))
    tasks = fit_tasks(args.configs, threads // workers, not args.no_plots)
    return max(map_in_processes(fit_config, tasks, workers=workers, threads=threads // workers))
