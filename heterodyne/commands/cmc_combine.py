"""``heterodyne cmc-combine --config RUN.yaml --nlsq NLSQ_RUN_DIR --shards S0.npz ... --run-dir OUT``:
the consensus of a run's shard files, written as a complete CMC run directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from heterodyne.commands.cmc_inputs import add_run_arguments


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``cmc-combine`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "cmc-combine",
        help="combine a run's CMC shard files into result.json and cmc_samples.npz (for workflow jobs)",
        description="Check that the shard files are all the shards of this run, combine them (optimization.cmc."
                    "combination), and write OUT/result.json (method cmc, with the NLSQ section), "
                    "OUT/nlsq.npz and OUT/cmc_samples.npz. Exit 2 when a shard is flagged or its "
                    "covariance had to be regularised.",
    )
    add_run_arguments(parser)
    parser.add_argument("--shards", type=Path, nargs="+", required=True, metavar="SHARD.npz")
    parser.add_argument("--run-dir", type=Path, required=True, metavar="OUT", help="directory to write")
    parser.add_argument("--no-plots", action="store_true", help="write no plots (overrides output.plots)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Combine and write; returns 0, or 2 on a convergence warning."""
    from heterodyne.results import check_writable
    from heterodyne.runtime import apply_thread_budget

    check_writable(args.run_dir)
    apply_thread_budget(1)

    from heterodyne.cmc_jobs import combine_job

    code = combine_job(args.config, args.data, args.nlsq, args.shards, args.run_dir, plots=not args.no_plots)
    print(args.run_dir / "result.json")
    return code
