"""Tables over many runs: ``summary.csv``, ``comparison.csv`` and ``stability.csv`` (pandas).

The inputs are result.json documents laid out by the workflow as
``ROOT/<dataset>/<run>/seed<seed>/<method>/result.json``; the layout gives each document its
dataset, run (sweep-point name), seed and method, and the document's resolved ``config`` gives
the value of every sweep key.

- summary: one row per run and method (the column list is :func:`summary_columns`).
- comparison: NLSQ against CMC, one row per run and sampled parameter.
- stability: per dataset, run, method and varied parameter, the spread of the estimates across
  seeds relative to their uncertainty (a seed study's reproducibility check, README.md).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from heterodyne.config import get_dotted
from heterodyne.errors import HeterodyneError
from heterodyne.methods import METHODS
from heterodyne.parameters import PHYSICS_NAMES
from heterodyne.results import atomic_write_bytes
from heterodyne.run_directory import read_result

RUN_KEYS = ["dataset", "run", "seed"]
"""The columns that name a run: where its result.json lies (:func:`locate`)."""
VALUE_SUFFIXES = ("", "_err", "_q05", "_q95")
"""Per physics name, the columns value, uncertainty and 90 % interval (:func:`parameter_columns`)."""
SEED_DIRECTORY = re.compile(r"seed(\d+)")


@dataclass(frozen=True)
class RunLocation:
    """Where one result.json lies: its path and the workflow coordinates read from it."""

    dataset: str
    run: str
    seed: int
    method: str
    path: Path


def locate(path: Path, root: Path) -> RunLocation:
    """Read dataset, run, seed and method from ``ROOT/<dataset>/<run>/seed<seed>/<method>/result.json``."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise HeterodyneError(f"{path}: not under the results directory {root}") from None
    layout = "<dataset>/<run>/seed<seed>/<method>/result.json"
    if len(parts) != 5 or parts[4] != "result.json":
        raise HeterodyneError(f"{path}: expected {root}/{layout}")
    dataset, run, seed_directory, method, _ = parts
    seed = SEED_DIRECTORY.fullmatch(seed_directory)
    if seed is None:
        raise HeterodyneError(f"{path}: {seed_directory!r} is not seed<integer> (expected {root}/{layout})")
    if method not in METHODS:
        raise HeterodyneError(f"{path}: method directory {method!r} is not one of {', '.join(METHODS)}")
    return RunLocation(dataset, run, int(seed.group(1)), method, path)


def summary_columns(sweep_keys: list[str]) -> list[str]:
    """The columns of summary.csv, in order (the trend plots read exactly these)."""
    per_parameter = [f"{name}{suffix}" for name in PHYSICS_NAMES for suffix in VALUE_SUFFIXES]
    return [
        *RUN_KEYS, "method", *sweep_keys,
        "status", "convergence_warning", "chi2_reduced", "varied",
        *per_parameter,
        "max_r_hat", "min_ess_bulk", "data_sha256", "heterodyne_version", "git_commit", "result",
    ]


def sweep_value(config: dict[str, Any], key: str, path: Path) -> Any:
    """The run's value of a sweep key; lists and mappings as compact JSON text."""
    try:
        value = get_dotted(config, key)
    except HeterodyneError as error:
        raise HeterodyneError(f"{path}: config {error}") from None
    return json.dumps(value) if isinstance(value, list | dict) else value


def tied_entries(config: dict[str, Any]) -> list[str]:
    """``name=target`` for every physics parameter the run's config ties to another (its value
    and uncertainty columns are the target's)."""
    return [f"{name}={entry['tied_to']}" for name, entry in config["parameters"].items()
            if entry.get("tied_to") is not None]


def method_section(document: dict[str, Any], entry: RunLocation) -> dict[str, Any]:
    """The ``nlsq`` or ``cmc`` section of a document; its absence is an error naming the file."""
    section = document.get(entry.method)
    if not isinstance(section, dict):
        raise HeterodyneError(f"{entry.path}: no {entry.method} section in the result")
    return section


def parameter_columns(section: dict[str, Any], method: str) -> dict[str, Any]:
    """Value, uncertainty and (CMC) 5/95 % quantiles of each physics parameter."""
    columns: dict[str, Any] = {}
    for name in PHYSICS_NAMES:
        columns[name] = section[name]
        if method == "nlsq":
            columns[f"{name}_err"] = section["stderr"][name]
            columns[f"{name}_q05"] = columns[f"{name}_q95"] = None
        else:
            columns[f"{name}_err"] = section["sd"][name]
            columns[f"{name}_q05"] = section["q05"][name]
            columns[f"{name}_q95"] = section["q95"][name]
    return columns


def summary_row(entry: RunLocation, sweep_keys: list[str]) -> dict[str, Any]:
    """One summary row. CMC rows take ``chi2_reduced`` from the CMC section when it reports one."""
    document = read_result(entry.path)
    section = method_section(document, entry)
    is_cmc = entry.method == "cmc"
    try:
        return {
            "dataset": entry.dataset, "run": entry.run, "seed": entry.seed, "method": entry.method,
            **{key: sweep_value(document["config"], key, entry.path) for key in sweep_keys},
            "status": document["status"],
            "convergence_warning": document["convergence_warning"],
            "chi2_reduced": section.get("chi2_reduced"),
            "varied": ";".join([*section["varied"], *tied_entries(document["config"])]),
            **parameter_columns(section, entry.method),
            "max_r_hat": section["max_r_hat"] if is_cmc else None,
            "min_ess_bulk": section["min_ess_bulk"] if is_cmc else None,
            "data_sha256": document["data_sha256"],
            "heterodyne_version": document["heterodyne_version"],
            "git_commit": document["git_commit"],
            "result": str(entry.path),
        }
    except KeyError as error:
        raise HeterodyneError(f"{entry.path}: result has no {error.args[0]!r} entry") from None


def summary_table(entries: list[RunLocation], sweep_keys: list[str]) -> pd.DataFrame:
    """summary.csv as a DataFrame, sorted by dataset, run, seed and method; duplicates refused."""
    seen: set[tuple] = set()
    for entry in entries:
        key = (entry.dataset, entry.run, entry.seed, entry.method)
        if key in seen:
            raise HeterodyneError(f"{entry.path}: a second result for {'/'.join(map(str, key))}")
        seen.add(key)
    rows = [summary_row(entry, sweep_keys) for entry in entries]
    table = pd.DataFrame(rows, columns=summary_columns(sweep_keys))
    return table.sort_values([*RUN_KEYS, "method"], kind="stable").reset_index(drop=True)


def _ratio(numerator: Any, denominator: Any) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is zero."""
    if numerator is None or denominator is None or pd.isna(numerator) or pd.isna(denominator) or denominator == 0:
        return None
    return float(numerator) / float(denominator)


def comparison_table(summary: pd.DataFrame, sweep_keys: list[str]) -> pd.DataFrame:
    """NLSQ against CMC per run and CMC-sampled parameter (runs with both methods only).

    ``difference`` = CMC mean − NLSQ value, ``difference_in_sd`` = difference / CMC sd,
    ``sd_difference`` = CMC sd − NLSQ stderr, ``sd_ratio`` = CMC sd / NLSQ stderr.
    """
    columns = [*RUN_KEYS, *sweep_keys, "parameter", "nlsq_value", "nlsq_err", "cmc_mean", "cmc_sd",
               "cmc_q05", "cmc_q95", "difference", "difference_in_sd", "sd_difference", "sd_ratio"]
    nlsq = summary[summary["method"] == "nlsq"].set_index(RUN_KEYS)
    rows = []
    for _, cmc in summary[summary["method"] == "cmc"].iterrows():
        key = tuple(cmc[k] for k in RUN_KEYS)
        if key not in nlsq.index:
            continue
        fit = nlsq.loc[key]
        for name in filter(None, cmc["varied"].split(";")):
            difference = cmc[name] - fit[name]
            sd_difference = None if pd.isna(fit[f"{name}_err"]) else cmc[f"{name}_err"] - fit[f"{name}_err"]
            rows.append({
                **{k: cmc[k] for k in [*RUN_KEYS, *sweep_keys]}, "parameter": name,
                "nlsq_value": fit[name], "nlsq_err": fit[f"{name}_err"],
                "cmc_mean": cmc[name], "cmc_sd": cmc[f"{name}_err"],
                "cmc_q05": cmc[f"{name}_q05"], "cmc_q95": cmc[f"{name}_q95"],
                "difference": difference,
                "difference_in_sd": _ratio(difference, cmc[f"{name}_err"]),
                "sd_difference": sd_difference,
                "sd_ratio": _ratio(cmc[f"{name}_err"], fit[f"{name}_err"]),
            })
    return pd.DataFrame(rows, columns=columns)


def stability_table(summary: pd.DataFrame, sweep_keys: list[str]) -> pd.DataFrame:
    """Spread across seeds per dataset, run, method and varied parameter.

    ``spread`` is the standard deviation (ddof 1) of the estimates over the seeds, ``mean_err``
    the mean of their uncertainties (CMC sd or NLSQ stderr), ``relative_spread`` = spread /
    mean_err: well below 1 when the seed does not matter.
    """
    columns = ["dataset", "run", "method", *sweep_keys, "parameter", "n_seeds", "mean", "spread",
               "mean_err", "relative_spread"]
    rows = []
    for (dataset, run, method), group in summary.groupby(["dataset", "run", "method"], sort=True):
        varied = sorted({name for text in group["varied"] for name in filter(None, text.split(";"))},
                        key=PHYSICS_NAMES.index)
        for name in varied:
            values = group[name].astype(float)
            errors = group[f"{name}_err"].astype(float)
            spread = float(values.std(ddof=1)) if len(values) > 1 else math.nan
            mean_err = float(errors.mean())
            rows.append({
                "dataset": dataset, "run": run, "method": method,
                **{key: group[key].iloc[0] for key in sweep_keys}, "parameter": name,
                "n_seeds": int(group["seed"].nunique()), "mean": float(values.mean()), "spread": spread,
                "mean_err": mean_err, "relative_spread": _ratio(spread, mean_err),
            })
    return pd.DataFrame(rows, columns=columns)


def write_csv(path: Path, table: pd.DataFrame) -> None:
    """Atomically write ``table`` as CSV (no index; missing values as empty cells)."""
    atomic_write_bytes(path, table.to_csv(index=False).encode("utf-8"))
