"""The options the CMC workflow commands (cmc-shard, cmc-combine) share."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """--config, --data and --nlsq (the NLSQ run directory this CMC warm-starts from)."""
    parser.add_argument("--config", type=Path, required=True, help="analysis YAML of the run")
    parser.add_argument("--data", type=Path, help="HDF5 file (overrides experimental_data.file_path)")
    parser.add_argument("--nlsq", type=Path, required=True, metavar="NLSQ_RUN_DIR",
                        help="run directory of the NLSQ result (result.json and nlsq.npz) of the same config")
