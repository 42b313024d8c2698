"""A finished run's saved outputs, read back for plotting: result.json, nlsq.npz, cmc_samples.npz.

Nothing here writes: plotting a run never changes what the run produced.
"""

from __future__ import annotations

import copy
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heterodyne.errors import HeterodyneError

NLSQ_ARRAYS = ("names", "values", "vary", "free_names", "covariance", "contrast", "offset", "q", "phi", "t")
CMC_ARRAYS = ("names", "consensus", "shard_draws", "divergent", "nlsq_values")


@dataclass(frozen=True)
class RunOutputs:
    """The parsed outputs of one run directory; ``cmc`` is None when CMC did not run."""

    run_dir: Path
    result: dict
    nlsq: dict[str, np.ndarray]
    cmc: dict[str, np.ndarray] | None


def read_npz(path: Path, required: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Every array of an NPZ file (no pickles), refusing a file that lacks one of ``required``."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise HeterodyneError(f"{path}: cannot read ({error})") from error
    missing = [name for name in required if name not in arrays]
    if missing:
        raise HeterodyneError(f"{path}: missing array(s) {', '.join(missing)}")
    return arrays


def read_result(path: Path) -> dict:
    """result.json as a dict, refusing a file that is not a run's JSON object."""
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise HeterodyneError(f"{path}: cannot read ({error.strerror or error})") from error
    except json.JSONDecodeError as error:
        raise HeterodyneError(f"{path}: invalid JSON ({error.msg} at line {error.lineno})") from error
    if not isinstance(document, dict) or not isinstance(document.get("nlsq"), dict):
        raise HeterodyneError(f"{path}: not a run result (no 'nlsq' section)")
    return document


def load_run_outputs(run_dir: Path) -> RunOutputs:
    """The outputs of ``run_dir``; a missing directory or file is a HeterodyneError naming it."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise HeterodyneError(f"run directory {run_dir}: not a directory")
    for name in ("result.json", "nlsq.npz"):
        if not (run_dir / name).is_file():
            raise HeterodyneError(f"run directory {run_dir}: no {name} (not a finished run)")
    cmc_path = run_dir / "cmc_samples.npz"
    return RunOutputs(
        run_dir=run_dir,
        result=read_result(run_dir / "result.json"),
        nlsq=read_npz(run_dir / "nlsq.npz", NLSQ_ARRAYS),
        cmc=read_npz(cmc_path, CMC_ARRAYS) if cmc_path.is_file() else None,
    )


def load_run_data(result: dict, data_file: Path | None = None):
    """The data the run analysed: its config's selection, read from ``data_file`` or the file the
    run recorded, refused when the file's SHA-256 is not the run's."""
    from heterodyne.commands.run import load_selected_data

    config = copy.deepcopy(result["config"])
    config["experimental_data"]["file_path"] = str(data_file if data_file is not None else result["data_file"])
    data = load_selected_data(config)
    if data.provenance["sha256"] != result["data_sha256"]:
        raise HeterodyneError(f"{data.provenance['file']}: not the run's data (its SHA-256 differs from data_sha256)")
    return data
