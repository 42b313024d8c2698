"""``heterodyne compare RUN_DIR [--data FILE.h5] [--threads N]``: each named reduction of the model
against a finished run's NLSQ fit, written to ``RUN_DIR/model_comparison.csv``.

The run's result.json, nlsq.npz and data file are only read (the data must be the run's, by
SHA-256); each reduction is tested at the saved fit and fitted on the same data
(:mod:`heterodyne.comparison`). The table is written atomically, once every reduction is done.
"""

from __future__ import annotations

import argparse
from pathlib import Path

TABLE = "model_comparison.csv"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``compare`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "compare",
        help="test the model's named reductions against a run's fit (model_comparison.csv)",
        description="Test one_component, tied_transport, steady and constant_fraction against the full "
        "NLSQ fit of RUN_DIR with the cluster-robust Wald test, fit each reduction, and write "
        f"RUN_DIR/{TABLE}.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a finished run (holds result.json)")
    parser.add_argument("--data", type=Path, metavar="FILE.h5",
                        help="the run's data file, if it moved (default: the data_file in result.json)")
    parser.add_argument("--threads", type=int, help="threads of the fits (default $HETERODYNE_THREADS or all cores)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Compare, write the table and print its path; returns 0 (bad input raises HeterodyneError)."""
    import pandas as pd

    from heterodyne.comparison import COLUMNS, compare
    from heterodyne.config.tree import AnalysisConfig
    from heterodyne.data.configured import load_run_data
    from heterodyne.run_directory import read_run
    from heterodyne.run_tables import write_csv
    from heterodyne.runtime import enable_compile_cache, resolve_threads

    saved = read_run(args.run_dir)
    config = AnalysisConfig.from_resolved(saved.document["config"])
    enable_compile_cache(config.compute.jax_cache_dir)
    data = load_run_data(saved.document, args.data)
    rows = compare(config, data, saved.nlsq, threads=resolve_threads(args.threads))
    path = args.run_dir / TABLE
    write_csv(path, pd.DataFrame(rows, columns=list(COLUMNS)))
    print(path)
    return 0
