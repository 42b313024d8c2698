"""``heterodyne preview FILE.h5 [--output-dir DIR] [--q Q] [--phi PHI ...] [--format png|svg|pdf]``:
look at two-time data before any fit.

Writes the figures of :mod:`heterodyne.plots.preview` and ``preview.txt`` under DIR (default
``<file stem>_preview`` in the current directory), prints the text summary of
:mod:`heterodyne.preview` (per bin: contrast, noise, fringes; whether the data look heterodyne;
a suggested q/φ selection and the data-driven start a fit of it would begin from; aliasing
warnings), then the paths written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from heterodyne.plots.canvas import IMAGE_FORMATS


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``preview`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "preview",
        help="figures and a summary of a two-time file before any fit (fringes, contrast, noise)",
        description="Draw every bin's c2, cuts, lag profile and its spectrum; say per bin whether fringes "
        "are present and at what frequency, the contrast and the noise; suggest a q/phi selection and "
        "print the data-driven start a fit of it would begin from.",
    )
    parser.add_argument("file", type=Path, metavar="FILE.h5", help="two-time result file")
    parser.add_argument("--output-dir", type=Path, help="where the figures go (default: <file stem>_preview)")
    parser.add_argument("--q", type=float, help="only the bins at this q (1/A; default all)")
    parser.add_argument("--phi", type=float, nargs="+", help="only these angles (degrees; with or without --q)")
    parser.add_argument("--format", choices=IMAGE_FORMATS, default="png", dest="image_format",
                        help="image format (default png)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the preview and print its summary and paths; returns 0 (bad input raises HeterodyneError)."""
    from heterodyne.plots.preview import preview_file

    output_dir = args.output_dir or Path(f"{args.file.stem}_preview")
    lines, paths = preview_file(args.file, output_dir, q=args.q, phi=args.phi, image_format=args.image_format)
    for line in [*lines, *map(str, paths)]:
        print(line)
    return 0
