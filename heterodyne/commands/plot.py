"""``heterodyne plot RUN_DIR [--format png|svg|pdf] [--data F]``: redraw a run's figures from its
saved outputs (result.json, nlsq.npz, cmc_samples.npz) and data file, without refitting.

The run's files are only read; the figures go to ``RUN_DIR/plots/`` and their paths are printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from heterodyne.plots.canvas import IMAGE_FORMATS


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``plot`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "plot",
        help="redraw a run's figures from its saved outputs (no refit)",
        description="Write the figures of a finished run under RUN_DIR/plots/: per-angle data/model/"
        "residual maps, one-time cuts, rate functions and, for CMC runs, traces and a corner plot.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run directory (holds result.json)")
    parser.add_argument("--format", choices=IMAGE_FORMATS, default="png", dest="image_format",
                        help="image format (default png)")
    parser.add_argument("--data", type=Path, metavar="FILE.h5",
                        help="the run's data file, if it moved (default: the data_file in result.json)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the figures and print their paths; returns 0 (bad input raises HeterodyneError)."""
    from heterodyne.plots.run_outputs import load_run_data, load_run_outputs
    from heterodyne.plots.run_plots import write_run_plots
    from heterodyne.runtime import enable_compile_cache

    outputs = load_run_outputs(args.run_dir)
    enable_compile_cache(outputs.result["config"]["compute"]["jax_cache_dir"])
    data = load_run_data(outputs.result, args.data)
    for path in write_run_plots(args.run_dir, data=data, image_format=args.image_format):
        print(path)
    return 0
