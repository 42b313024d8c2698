"""Where the ``heterodyne`` logger writes: stderr, one prefixed line per record."""

from __future__ import annotations

import logging
import sys


def configure_logging(verbose: bool) -> None:
    """Warnings and info lines (with ``verbose``, debug lines too) of the ``heterodyne`` logger go
    to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("heterodyne: %(levelname)s: %(message)s"))
    logger = logging.getLogger("heterodyne")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
