"""``heterodyne cmc-plan --config RUN.yaml [--data F | --n-points P]``: the run's shard plan as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``cmc-plan`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "cmc-plan",
        help="print the CMC shard plan of a run (number of shards, sizes, why)",
        description="Print the CMC shard plan of a run as one JSON object: n_shards, n_points, shard_sizes, "
                    "seed, max_points_per_shard, reason. Reads only the data's shape.",
    )
    parser.add_argument("--config", type=Path, required=True, help="analysis YAML of the run")
    parser.add_argument("--data", type=Path, help="HDF5 file (overrides experimental_data.file_path)")
    parser.add_argument("--n-points", type=int, metavar="P",
                        help="plan for P data points instead of reading the data")
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the plan; returns 0."""
    from heterodyne.cmc_jobs import shard_plan_of
    from heterodyne.config import read_config

    overrides = {"experimental_data.file_path": str(args.data)} if args.data is not None else {}
    print(json.dumps(shard_plan_of(read_config(args.config, overrides), args.n_points)))
    return 0
