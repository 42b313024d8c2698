"""``heterodyne summarize RESULT.json ... --root DIR --summary S.csv --comparison C.csv [--stability T.csv]``.

Tabulates the workflow's runs (see :mod:`heterodyne.run_tables`). Each RESULT.json must lie at
``DIR/<dataset>/<run>/seed<seed>/<method>/result.json``; ``--sweep-key`` names each swept config
key (a dotted path) whose value becomes a column. All tables are written atomically, and only
after every input has been read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from heterodyne.errors import HeterodyneError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``summarize`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "summarize",
        help="tabulate many runs' result.json files (summary, NLSQ-CMC comparison, seed stability)",
        description="Write summary.csv (one row per run and method), comparison.csv (NLSQ against "
        "CMC per run and parameter) and optionally stability.csv (spread across seeds).",
    )
    parser.add_argument("results", type=Path, nargs="+", metavar="RESULT.json",
                        help="result files at ROOT/<dataset>/<run>/seed<seed>/<method>/result.json")
    parser.add_argument("--root", type=Path, required=True, metavar="DIR", help="the results directory")
    parser.add_argument("--sweep-key", action="append", default=[], metavar="KEY", dest="sweep_keys",
                        help="a swept config key (dotted path), one column each; repeatable")
    parser.add_argument("--summary", type=Path, required=True, metavar="CSV", help="summary table to write")
    parser.add_argument("--comparison", type=Path, required=True, metavar="CSV",
                        help="NLSQ-against-CMC table to write")
    parser.add_argument("--stability", type=Path, metavar="CSV", help="seed-stability table to write")
    return parser


def run(args: argparse.Namespace) -> int:
    """Read every result, then write the tables; returns 0 (bad inputs raise HeterodyneError)."""
    from heterodyne.run_tables import comparison_table, locate, stability_table, summary_table, write_csv

    if len(set(args.sweep_keys)) != len(args.sweep_keys):
        raise HeterodyneError(f"--sweep-key: a key is given twice in {args.sweep_keys}")
    entries = [locate(path, args.root) for path in args.results]
    summary = summary_table(entries, args.sweep_keys)
    tables = [(args.summary, summary), (args.comparison, comparison_table(summary, args.sweep_keys))]
    if args.stability is not None:
        tables.append((args.stability, stability_table(summary, args.sweep_keys)))
    for path, table in tables:
        write_csv(path, table)
        print(path)
    return 0
