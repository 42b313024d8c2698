"""``heterodyne trends SUMMARY.csv --output-dir DIR [--format png|svg|pdf]``: the across-run figures
of a sweep, from the summary table the workflow writes.

Writes ``trend_<sweep column>`` per sweep column (every varied parameter against it) and, when some
run has both NLSQ and CMC rows, ``nlsq_vs_cmc``; prints their paths.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from heterodyne.plots.canvas import IMAGE_FORMATS


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``trends`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "trends",
        help="plot fitted parameters across the runs of a sweep (from summary.csv)",
        description="Plot every varied parameter against each sweep variable of a summary.csv "
        "(error bars: NLSQ stderr, CMC 5-95 %%) and NLSQ against CMC.",
    )
    parser.add_argument("summary", type=Path, metavar="SUMMARY.csv", help="the sweep's summary table")
    parser.add_argument("--output-dir", type=Path, required=True, metavar="DIR", help="where the figures go")
    parser.add_argument("--format", choices=IMAGE_FORMATS, default="png", dest="image_format",
                        help="image format (default png)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the figures and print their paths; returns 0 (bad input raises HeterodyneError)."""
    from heterodyne.plots.agreement import write_agreement
    from heterodyne.plots.summary_table import read_summary
    from heterodyne.plots.trends import write_trends
    from heterodyne.results import check_writable

    table = read_summary(args.summary)
    check_writable(args.output_dir)
    for path in write_trends(table, args.output_dir, args.image_format) + \
            write_agreement(table, args.output_dir, args.image_format):
        print(path)
    return 0
