"""model_comparison.csv across the workflow's runs: every run's table, the run named first.

Each run directory lies at ``ROOT/<dataset>/<run>/seed<seed>/<method>/`` and holds result.json
and model_comparison.csv (``heterodyne compare``); the table's rows are the runs' rows in the
order given, each prefixed by the run columns of summary.csv (:data:`heterodyne.run_tables.RUN_KEYS`
and one column per sweep key, :func:`heterodyne.run_tables.sweep_value`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from heterodyne.comparison.compare import COLUMNS
from heterodyne.errors import HeterodyneError
from heterodyne.run_directory import read_result
from heterodyne.run_tables import RUN_KEYS, locate, sweep_value

TABLE = "model_comparison.csv"
"""The file name of a run's table and of the table across runs."""


def run_rows(run_dir: Path, root: Path, sweep_keys: list[str]) -> pd.DataFrame:
    """One run's model_comparison.csv with its run columns first; a missing file, or one whose
    columns are not ``COLUMNS``, is an error naming it."""
    result = run_dir / "result.json"
    entry = locate(result, root)
    document = read_result(result)
    path = run_dir / TABLE
    try:
        rows = pd.read_csv(path, dtype=object, keep_default_na=False)
    except FileNotFoundError:
        raise HeterodyneError(f"{path}: no model comparison (run `heterodyne compare {run_dir}`)") from None
    if tuple(rows.columns) != COLUMNS:
        raise HeterodyneError(f"{path}: columns {', '.join(rows.columns)}, expected {', '.join(COLUMNS)}")
    names = {"dataset": entry.dataset, "run": entry.run, "seed": entry.seed,
             **{key: sweep_value(document["config"], key, result) for key in sweep_keys}}
    return pd.concat([pd.DataFrame({key: [value] * len(rows) for key, value in names.items()}), rows], axis=1)


def across_runs(run_dirs: list[Path], root: Path, sweep_keys: list[str]) -> pd.DataFrame:
    """Every run's rows (:func:`run_rows`) in one table: columns dataset, run, seed, the sweep
    keys, then ``COLUMNS``."""
    columns = [*RUN_KEYS, *sweep_keys, *COLUMNS]
    return pd.concat([run_rows(Path(run_dir), Path(root), sweep_keys) for run_dir in run_dirs],
                     ignore_index=True).reindex(columns=columns)
