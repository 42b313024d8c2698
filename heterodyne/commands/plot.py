"""``heterodyne plot RUN_DIR [RUN_DIR ...] [--format png|svg|pdf] [--threads N] [--data F]``: redraw
runs' figures from their saved outputs (result.json, nlsq.npz, cmc_samples.npz) and data files,
without refitting.

The runs' files are only read; each run's figures go to ``RUN_DIR/plots/`` and their paths are
printed, run by run. With several runs, up to N of them are drawn at once (one process each).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from heterodyne.errors import HeterodyneError
from heterodyne.plots.canvas import IMAGE_FORMATS


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``plot`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "plot",
        help="redraw runs' figures from their saved outputs (no refit)",
        description="Write the figures of finished runs under RUN_DIR/plots/: per-angle data/model/"
        "residual maps, one-time cuts, rate functions and, for CMC runs, traces and a corner plot.",
    )
    parser.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR",
                        help="a run directory (holds result.json); several may be given")
    parser.add_argument("--format", choices=IMAGE_FORMATS, default="png", dest="image_format",
                        help="image format (default png)")
    parser.add_argument("--threads", type=int,
                        help="runs drawn at once, one process each (default $HETERODYNE_THREADS or all cores)")
    parser.add_argument("--data", type=Path, metavar="FILE.h5",
                        help="the run's data file, if it moved (one RUN_DIR only; default: the data_file "
                             "in result.json)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the figures and print their paths; returns 0 (bad input raises HeterodyneError)."""
    from heterodyne.plots.many_runs import plot_run, plot_runs
    from heterodyne.runtime import resolve_threads

    threads = resolve_threads(args.threads)
    if args.data is not None:
        if len(args.run_dirs) > 1:
            raise HeterodyneError(f"--data {args.data}: only with a single RUN_DIR "
                                  f"({len(args.run_dirs)} were given)")
        per_run = [plot_run(args.run_dirs[0], args.image_format, args.data)]
    else:
        per_run = plot_runs(args.run_dirs, image_format=args.image_format, workers=threads)
    for paths in per_run:
        for path in paths:
            print(path)
    return 0
