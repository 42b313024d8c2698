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
    from heterodyne.cmc.plan import shard_plan
    from heterodyne.config import load_config
    from heterodyne.errors import HeterodyneError

    overrides = {"experimental_data.file_path": str(args.data)} if args.data is not None else {}
    config = load_config(args.config, overrides)
    n_points = args.n_points
    if n_points is None:
        from heterodyne.batch.shape import file_shape, selection

        path = config["experimental_data"]["file_path"]
        if path is None:
            raise HeterodyneError("no data file: give --data, --n-points or set experimental_data.file_path")
        n_points = selection(file_shape(path), config).n_points
    if n_points < 1:
        raise HeterodyneError(f"--n-points {n_points}: expected a positive number of points")
    print(json.dumps(shard_plan(n_points, config["optimization"]["cmc"]).describe()))
    return 0
