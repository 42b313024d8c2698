"""``heterodyne cmc-combine --config RUN.yaml --nlsq NLSQ_RUN_DIR --shards S0.npz ... --run-dir OUT``:
the consensus of a run's shard files, written as a complete CMC run directory."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from heterodyne.commands.cmc_inputs import add_run_arguments, load_run_inputs


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

    started = time.perf_counter()
    check_writable(args.run_dir)
    inputs = load_run_inputs(args, 1)

    from heterodyne.analysis import log_cmc_summary, new_document, set_status, write_run
    from heterodyne.cmc.report import read_shard_files
    from heterodyne.cmc.run import report
    from heterodyne.cmc.setup import prepare

    config = inputs.config
    if args.no_plots:
        config["output"]["plots"] = False
    setup = prepare(config, inputs.data, inputs.nlsq.arrays)
    shards = read_shard_files(args.shards, inputs.identity, setup.names)
    document = new_document(config, inputs.data, inputs.identity, "cmc", inputs.nlsq)
    document["cmc"], samples, warning = report(setup, shards, inputs.nlsq.arrays)
    code = set_status(document, [inputs.nlsq.warning, warning])
    document["timing"] = {"combine_seconds": time.perf_counter() - started,
                          "cmc_shard_seconds": sum(s.wall_seconds for s in shards)}
    write_run(args.run_dir, document, {"nlsq.npz": inputs.nlsq.arrays, "cmc_samples.npz": samples}, inputs.data)
    log_cmc_summary(document["cmc"])
    print(args.run_dir / "result.json")
    return code
