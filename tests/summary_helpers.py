"""Hand-made summary.csv files in the workflow's column contract, for the trends figures."""

from __future__ import annotations

import csv
from pathlib import Path

from heterodyne.parameters import PHYSICS_NAMES

VARIED = ("D0_ref", "alpha_ref", "v0")
START_FRAMES = (1, 51, 101, 151)


def summary_row(dataset: str, start_frame: int, mode: str, method: str, *, status: str = "converged") -> dict:
    """One row: D0_ref, alpha_ref and v0 drift with start_frame; CMC and dataset B a little off."""
    shift = (1.02 if method == "cmc" else 1.0) * (1.05 if dataset == "B" else 1.0)
    values = {"D0_ref": 2e4 + 30 * start_frame, "alpha_ref": -0.3 + 1e-3 * start_frame, "v0": 1000.0 - start_frame}
    row = {"dataset": dataset, "run": f"sf{start_frame}_{mode}", "seed": "1", "method": method,
           "analyzer_parameters.start_frame": str(start_frame), "scaling.mode": mode, "status": status,
           "convergence_warning": "" if status == "converged" else "iteration limit", "chi2_reduced": "1.01",
           "varied": ";".join(VARIED)}
    for name in PHYSICS_NAMES:
        value = values.get(name, 0.0) * shift
        error = abs(value) * 0.01 if name in VARIED else None
        row[name] = f"{value:.6g}"
        row[f"{name}_err"] = "" if error is None else f"{error:.3g}"
        row[f"{name}_q05"] = f"{value - 1.6 * error:.6g}" if method == "cmc" and error else ""
        row[f"{name}_q95"] = f"{value + 1.6 * error:.6g}" if method == "cmc" and error else ""
    row.update(max_r_hat="1.01" if method == "cmc" else "", min_ess_bulk="400" if method == "cmc" else "",
               data_sha256="0" * 64, heterodyne_version="0.1.0", git_commit="abc", result=f"{dataset}/result.json")
    return row


def sweep_rows(methods=("nlsq", "cmc")) -> list[dict]:
    """Two datasets × four start frames × two scaling modes × ``methods``; one run not converged."""
    rows = [summary_row(dataset, start, mode, method)
            for dataset in ("A", "B") for start in START_FRAMES for mode in ("individual", "constant")
            for method in methods]
    rows[3]["status"] = "convergence_warning"
    return rows


def write_summary(path: Path, rows: list[dict]) -> Path:
    """Write ``rows`` as CSV with the columns of the first row."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
