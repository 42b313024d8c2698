"""What the CMC workflow commands share: the run's config, data and saved NLSQ result."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from heterodyne.errors import HeterodyneError


@dataclass(frozen=True)
class RunInputs:
    config: dict
    data: object
    identity: str
    nlsq: object  # commands.run.NlsqOutcome


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """--config, --data and --nlsq (the NLSQ run directory this CMC warm-starts from)."""
    parser.add_argument("--config", type=Path, required=True, help="analysis YAML of the run")
    parser.add_argument("--data", type=Path, help="HDF5 file (overrides experimental_data.file_path)")
    parser.add_argument("--nlsq", type=Path, required=True, metavar="NLSQ_RUN_DIR",
                        help="run directory of the NLSQ result (result.json and nlsq.npz) of the same config")


def load_run_inputs(args: argparse.Namespace, threads: int | None = None) -> RunInputs:
    """Config, data and NLSQ result; the NLSQ result must be of this config and data (same run id)."""
    from heterodyne.runtime import apply_thread_budget, resolve_threads

    apply_thread_budget(resolve_threads(threads))

    from heterodyne.commands.run import load_selected_data, saved_nlsq
    from heterodyne.config import load_config
    from heterodyne.provenance import run_id
    from heterodyne.runtime import enable_compile_cache

    overrides = {"experimental_data.file_path": str(args.data)} if args.data is not None else {}
    config = load_config(args.config, overrides)
    data = load_selected_data(config)
    identity = run_id(config, data.provenance["sha256"])
    nlsq = saved_nlsq(args.nlsq, identity)
    if nlsq is None:
        raise HeterodyneError(f"{args.nlsq}: no NLSQ result of this config and data (run id {identity}); "
                              f"run heterodyne --config {args.config} --method nlsq --run-dir {args.nlsq} first")
    enable_compile_cache(config["compute"]["jax_cache_dir"])
    return RunInputs(config, data, identity, nlsq)
