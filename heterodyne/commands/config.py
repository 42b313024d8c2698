"""``heterodyne config [-o FILE] [--force]``: write the commented analysis-config template."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from heterodyne.config import template_text
from heterodyne.errors import HeterodyneError
from heterodyne.results import atomic_write_bytes


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``config`` subcommand and return its parser."""
    parser = subparsers.add_parser(
        "config",
        help="write a commented template of the analysis configuration",
        description="Write the analysis configuration with every default and a comment per key.",
    )
    parser.add_argument("-o", "--output", metavar="FILE", type=Path,
                        help="write to FILE (atomically) instead of standard output")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the template to ``args.output`` or to standard output; returns 0.

    Refuses to replace an existing file without ``--force``; any problem is a HeterodyneError
    naming the file.
    """
    text = template_text()
    path: Path | None = args.output
    if path is None:
        sys.stdout.write(text)
        return 0
    if path.is_dir():
        raise HeterodyneError(f"{path}: is a directory")
    if path.exists() and not args.force:
        raise HeterodyneError(f"{path}: already exists (use --force to overwrite)")
    atomic_write_bytes(path, text.encode("utf-8"))
    return 0
