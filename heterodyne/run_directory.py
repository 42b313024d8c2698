"""A run directory's format, written and read back in one place.

A run directory holds ``nlsq.npz`` (the NLSQ estimate, covariance and scaling), for CMC runs
``cmc_samples.npz`` (the draws), and ``result.json`` (the document every user script reads).
The NPZ files are written first and result.json last, each atomically
(:func:`heterodyne.results.atomic_destination`), so a directory with a result.json is a finished
run. Every NPZ holds plain arrays and loads with ``numpy.load(path)`` (no pickle).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heterodyne.errors import HeterodyneError

RESULT = "result.json"
NLSQ_NPZ = "nlsq.npz"
CMC_NPZ = "cmc_samples.npz"
# Every array that anything reads from nlsq.npz: the plots and the API (the estimate, covariance,
# scaling and selection), and CMC's warm start and likelihood calibration (heterodyne/cmc/setup.py,
# heterodyne/cmc/calibration.py, heterodyne/cmc/run.py).
NLSQ_ARRAYS = ("names", "values", "vary", "free_names", "free_values", "covariance", "covariance_independent",
               "degrees_of_freedom", "chi2_reduced", "n_points", "contrast", "offset", "q", "phi", "t")
CMC_ARRAYS = ("names", "consensus", "shard_draws", "divergent", "nlsq_values")


@dataclass(frozen=True)
class RunOutputs:
    """The parsed outputs of one run directory; ``cmc`` is None when CMC did not run."""

    run_dir: Path
    result: dict
    nlsq: dict[str, np.ndarray]
    cmc: dict[str, np.ndarray] | None


def write_run(run_dir: Path, document: dict, arrays: dict[str, dict]) -> None:
    """``arrays`` ({file name: arrays}) as NPZ files, then ``document`` as result.json."""
    from heterodyne.results import write_json, write_npz

    for name, content in arrays.items():
        write_npz(Path(run_dir) / name, content)
    write_json(Path(run_dir) / RESULT, document)


def read_npz(path: Path, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Every array of an NPZ file (no pickles), refusing a file that lacks one of ``required``."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise HeterodyneError(f"{path}: cannot read ({error})") from error
    check_arrays(arrays, required, path)
    return arrays


def check_arrays(arrays, required: tuple[str, ...], source) -> None:
    """Refuse ``arrays`` (an NPZ's arrays, by name) that lack one of ``required``, with one line
    naming ``source`` and every missing array."""
    missing = [name for name in required if name not in arrays]
    if missing:
        raise HeterodyneError(f"{source}: missing array(s) {', '.join(missing)} "
                              "(not written by this version of heterodyne; rerun the step that writes it)")


def read_result(path: Path) -> dict[str, Any]:
    """result.json as a dict; a missing, unreadable or malformed file, or a JSON document that is
    not a run's (no ``nlsq`` section), is a HeterodyneError naming it."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HeterodyneError(f"{path}: no such result file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise HeterodyneError(f"{path}: cannot read ({getattr(error, 'strerror', None) or error})") from None
    except json.JSONDecodeError as error:
        raise HeterodyneError(f"{path}: invalid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict) or not isinstance(document.get("nlsq"), dict):
        raise HeterodyneError(f"{path}: not a run result (no 'nlsq' section)")
    return document


def is_finished(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a finished run (result.json and nlsq.npz)."""
    return (Path(run_dir) / RESULT).is_file() and (Path(run_dir) / NLSQ_NPZ).is_file()


def load_run_outputs(run_dir: Path) -> RunOutputs:
    """The outputs of ``run_dir``; a missing directory or file is a HeterodyneError naming it."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise HeterodyneError(f"run directory {run_dir}: not a directory")
    for name in (RESULT, NLSQ_NPZ):
        if not (run_dir / name).is_file():
            raise HeterodyneError(f"run directory {run_dir}: no {name} (not a finished run)")
    cmc_path = run_dir / CMC_NPZ
    return RunOutputs(
        run_dir=run_dir,
        result=read_result(run_dir / RESULT),
        nlsq=read_npz(run_dir / NLSQ_NPZ, NLSQ_ARRAYS),
        cmc=read_npz(cmc_path, CMC_ARRAYS) if cmc_path.is_file() else None,
    )
