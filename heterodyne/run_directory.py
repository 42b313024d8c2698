"""A run directory's format, written and read back in one place: :class:`Run`, :func:`write_run`
and :func:`read_run` are the only code that writes or reads a run's result.json, nlsq.npz and
cmc_samples.npz (a table of many runs reads result.json alone, :func:`read_result`).

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

from heterodyne.cmc.result import CmcResult
from heterodyne.errors import HeterodyneError
from heterodyne.nlsq.result import NlsqResult

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
class Run:
    """One run directory's content: result.json (``document``), its NLSQ result and, for a CMC
    run, its posterior (None otherwise). ``document["nlsq"]`` and ``document["cmc"]`` are the
    results' sections."""

    run_dir: Path
    document: dict
    nlsq: NlsqResult
    cmc: CmcResult | None


def write_run(run: Run) -> None:
    """Write ``run`` into ``run.run_dir``: nlsq.npz, cmc_samples.npz (CMC runs), then result.json
    with the results' sections (each file atomically)."""
    from heterodyne.results import write_json, write_npz

    write_npz(run.run_dir / NLSQ_NPZ, run.nlsq.arrays)
    if run.cmc is not None:
        write_npz(run.run_dir / CMC_NPZ, run.cmc.arrays)
    cmc_section = run.cmc.section if run.cmc is not None else None
    write_json(run.run_dir / RESULT, {**run.document, "nlsq": run.nlsq.section, "cmc": cmc_section})


def read_run(run_dir: Path) -> Run:
    """The run written in ``run_dir`` (:func:`write_run`); a missing directory or file, or an NPZ
    without an array the package reads, is a HeterodyneError naming it."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise HeterodyneError(f"run directory {run_dir}: not a directory")
    for name in (RESULT, NLSQ_NPZ):
        if not (run_dir / name).is_file():
            raise HeterodyneError(f"run directory {run_dir}: no {name} (not a finished run)")
    document = read_result(run_dir / RESULT)
    nlsq = NlsqResult(document["nlsq"], read_npz(run_dir / NLSQ_NPZ, NLSQ_ARRAYS))
    cmc_path = run_dir / CMC_NPZ
    if document.get("cmc") is None or not cmc_path.is_file():
        return Run(run_dir, document, nlsq, None)
    cmc = CmcResult(document["cmc"], read_npz(cmc_path, CMC_ARRAYS), cmc_warning(document))
    return Run(run_dir, document, nlsq, cmc)


def cmc_warning(document: dict) -> str | None:
    """The CMC part of a run's convergence warning: result.json's ``convergence_warning`` joins the
    NLSQ warning and the CMC one with "; " (:func:`heterodyne.analysis.set_status`)."""
    combined, nlsq = document["convergence_warning"], document["nlsq"]["convergence_warning"]
    if combined is None or combined == nlsq:
        return None
    return combined.removeprefix(f"{nlsq}; ") if nlsq else combined


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
