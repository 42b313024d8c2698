"""``heterodyne cmc-shard --config RUN.yaml --nlsq NLSQ_RUN_DIR --shard K --output SHARD.npz``:
sample one CMC shard (one workflow job), warm-started from a saved NLSQ result."""

from __future__ import annotations

import argparse
from pathlib import Path

from heterodyne.commands.cmc_inputs import add_run_arguments


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``cmc-shard`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "cmc-shard",
        help="sample one CMC shard of a run (for workflow jobs)",
        description="Sample shard K (0-based) of a run's CMC plan with NUTS, warm-started from the run's NLSQ "
                    "result, and write its draws to SHARD.npz. The draws equal those of the same shard in "
                    "heterodyne --method cmc with the same seed.",
    )
    add_run_arguments(parser)
    parser.add_argument("--shard", type=int, required=True, metavar="K", help="shard index, 0-based")
    parser.add_argument("--output", type=Path, required=True, metavar="SHARD.npz", help="file to write")
    parser.add_argument("--threads", type=int,
                        help="CPU budget of the process: up to N of the shard's chains run side by side")
    return parser


def run(args: argparse.Namespace) -> int:
    """Sample the shard and write its file; returns 0 (convergence is judged when combining)."""
    from heterodyne.results import check_writable
    from heterodyne.runtime import apply_thread_budget, resolve_threads

    check_writable(args.output.parent)
    threads = resolve_threads(args.threads)
    apply_thread_budget(threads)

    from heterodyne.cmc_jobs import shard_job

    print(shard_job(args.config, args.data, args.nlsq, shard=args.shard, path=args.output, threads=threads))
    return 0
