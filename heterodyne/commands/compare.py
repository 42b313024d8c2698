"""``heterodyne compare RUN_DIR [--data FILE.h5] [--reduction NAME ...] [--threads N]``: named
reductions of the model against a finished run's NLSQ fit, written to ``RUN_DIR/model_comparison.csv``.

The run's result.json, nlsq.npz and data file are only read (the data must be the run's, by
SHA-256); each reduction is tested at the saved fit and fitted on the same data
(:mod:`heterodyne.comparison`). The table is written atomically, once every reduction is done.

``heterodyne compare RUN_DIR ... --collect CSV --root DIR [--sweep-key KEY ...]`` fits nothing: it
gathers the runs' model_comparison.csv into one table across runs, the run columns of summary.csv
first (:mod:`heterodyne.comparison.across_runs`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from heterodyne.errors import HeterodyneError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``compare`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "compare",
        help="test the model's named reductions against a run's fit (model_comparison.csv)",
        description="Test one_component, tied_transport, steady and constant_fraction (or those named "
        "by --reduction) against the full NLSQ fit of RUN_DIR with the cluster-robust Wald test, fit "
        "each reduction, and write RUN_DIR/model_comparison.csv. With --collect, gather the "
        "model_comparison.csv of several runs into one table instead.",
    )
    parser.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR",
                        help="a finished run (holds result.json); several with --collect")
    parser.add_argument("--data", type=Path, metavar="FILE.h5",
                        help="the run's data file, if it moved (default: the data_file in result.json)")
    parser.add_argument("--reduction", action="append", metavar="NAME", dest="reductions",
                        help="a reduction to test, repeatable (default: all four)")
    parser.add_argument("--threads", type=int, help="threads of the fits (default $HETERODYNE_THREADS or all cores)")
    parser.add_argument("--collect", type=Path, metavar="CSV",
                        help="write the runs' tables as one CSV, fitting nothing (needs --root)")
    parser.add_argument("--root", type=Path, metavar="DIR",
                        help="with --collect: the results directory, runs at DIR/<dataset>/<run>/seed<seed>/<method>")
    parser.add_argument("--sweep-key", action="append", default=[], metavar="KEY", dest="sweep_keys",
                        help="with --collect: a swept config key (dotted path), one column each; repeatable")
    return parser


def run(args: argparse.Namespace) -> int:
    """Compare one run, or collect several runs' tables; write the table and print its path;
    returns 0 (bad input raises HeterodyneError)."""
    if args.collect is not None:
        return collect(args)
    if len(args.run_dirs) != 1 or args.root is not None or args.sweep_keys:
        raise HeterodyneError("compare fits one RUN_DIR at a time; several runs, --root and --sweep-key "
                              "go with --collect")
    import pandas as pd

    from heterodyne.comparison import COLUMNS, compare
    from heterodyne.comparison.across_runs import TABLE
    from heterodyne.comparison.reductions import select_reductions
    from heterodyne.config.tree import AnalysisConfig
    from heterodyne.data.configured import load_run_data
    from heterodyne.run_directory import read_run
    from heterodyne.run_tables import write_csv
    from heterodyne.runtime import enable_compile_cache, resolve_threads

    [run_dir] = args.run_dirs
    reductions = select_reductions(args.reductions)
    saved = read_run(run_dir)
    config = AnalysisConfig.from_resolved(saved.document["config"])
    enable_compile_cache(config.compute.jax_cache_dir)
    data = load_run_data(saved.document, args.data)
    rows = compare(config, data, saved.nlsq, reductions, threads=resolve_threads(args.threads))
    path = run_dir / TABLE
    write_csv(path, pd.DataFrame(rows, columns=list(COLUMNS)))
    print(path)
    return 0


def collect(args: argparse.Namespace) -> int:
    """Write the table across ``args.run_dirs`` to ``args.collect``; returns 0."""
    from heterodyne.comparison.across_runs import across_runs
    from heterodyne.run_tables import write_csv

    if args.root is None:
        raise HeterodyneError("--collect needs --root, the results directory the runs lie under")
    if args.data is not None or args.reductions or args.threads is not None:
        raise HeterodyneError("--collect fits nothing: --data, --reduction and --threads do not apply")
    if len(set(args.sweep_keys)) != len(args.sweep_keys):
        raise HeterodyneError(f"--sweep-key: a key is given twice in {args.sweep_keys}")
    write_csv(args.collect, across_runs(args.run_dirs, args.root, args.sweep_keys))
    print(args.collect)
    return 0
