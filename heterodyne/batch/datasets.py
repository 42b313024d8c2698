"""The dataset survey: which HDF5 files the workflow analyses, each under a name.

The workflow config's ``datasets`` section may combine four sources (names must be unique):

- ``files``: a mapping name → file;
- ``glob``: a pattern; each match is named by its file stem (unsafe characters → ``_``);
- ``sheet``: a TSV file with columns ``name`` and ``path`` and, optionally, more columns named by
  dotted analysis-config keys whose non-empty cells override that key for that dataset (values
  are read as YAML: ``100``, ``1e-3``, ``null``, ``[-157.5, 22.5]``), and columns ``windows`` and
  ``windows.<key>`` for the dataset's own windows along the age (:mod:`heterodyne.batch.windows`);
- ``simulate``: a mapping name → simulation settings and, under ``windows``, the dataset's own
  windows; the workflow's ``simulate`` rule writes those files, so they need not exist yet.

Datasets of ``files`` and ``glob`` take the workflow's windows; a row of the sheet gives a file
windows of its own.

Relative paths are relative to the working directory. Files that should exist but do not are
errors, named with the dataset and the path.
"""

from __future__ import annotations

import csv
import glob
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heterodyne.batch.names import check_name, safe_text
from heterodyne.batch.windows import WINDOWS_KEY, DatasetWindows, check_own_windows, is_window_column, sheet_windows
from heterodyne.config.yaml_io import parse_yaml
from heterodyne.errors import HeterodyneError

SHEET_COLUMNS = ("name", "path")


@dataclass(frozen=True)
class Dataset:
    """A named input file, its analysis-config overrides, (if simulated) its simulation settings and
    its own windows along the age (None: the workflow's)."""

    name: str
    path: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    simulation: Mapping[str, Any] | None = None
    windows: DatasetWindows = None


def _existing(name: str, path: str, where: str) -> Dataset:
    """A dataset whose file must already exist."""
    check_name(name, where)
    if not Path(path).is_file():
        raise HeterodyneError(f"{where}: dataset {name!r}: no such file {path}")
    return Dataset(name, path)


def from_files(files: Mapping[str, str]) -> list[Dataset]:
    """``datasets.files``: name → path."""
    return [_existing(name, path, f"datasets.files.{name}") for name, path in files.items()]


def from_glob(pattern: str) -> list[Dataset]:
    """``datasets.glob``: every matching file, named by its stem, in sorted order."""
    paths = sorted(path for path in glob.glob(pattern) if Path(path).is_file())
    if not paths:
        raise HeterodyneError(f"datasets.glob {pattern!r}: matches no file")
    return [_existing(safe_text(Path(path).stem), path, f"datasets.glob {pattern!r}") for path in paths]


def _sheet_row(row: dict[str, str], where: str) -> Dataset:
    """One sheet row: name, path, and from its non-empty extra cells the overrides and the windows."""
    dataset = _existing(row["name"].strip(), row["path"].strip(), where)
    cells = {key.strip(): text for key, text in row.items() if key not in SHEET_COLUMNS and text and text.strip()}
    overrides = {key: parse_yaml(text, f"{where}: column {key}")
                 for key, text in cells.items() if not is_window_column(key)}
    windows = sheet_windows({key: text for key, text in cells.items() if is_window_column(key)},
                            f"{where}: dataset {dataset.name}")
    return Dataset(dataset.name, dataset.path, overrides, windows=windows)


def from_sheet(sheet: str) -> list[Dataset]:
    """``datasets.sheet``: a tab-separated table with a header line."""
    try:
        with open(sheet, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            header = reader.fieldnames or []
            missing = [column for column in SHEET_COLUMNS if column not in header]
            if missing:
                raise HeterodyneError(f"datasets.sheet {sheet}: missing column(s) {', '.join(missing)} "
                                      f"(header: {', '.join(header) or 'none'})")
            rows = list(reader)
    except FileNotFoundError:
        raise HeterodyneError(f"datasets.sheet: no such file {sheet}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise HeterodyneError(f"datasets.sheet {sheet}: cannot read: {error}") from None
    datasets = []
    for line, row in enumerate(rows, start=2):
        where = f"datasets.sheet {sheet}:{line}"
        if None in row or None in row.values():
            raise HeterodyneError(f"{where}: expected {len(header)} tab-separated cells")
        datasets.append(_sheet_row(row, where))
    return datasets


def from_simulations(simulations: Mapping[str, Mapping[str, Any]], directory: str) -> list[Dataset]:
    """``datasets.simulate``: name → settings (with the dataset's own ``windows``); the file is
    ``DIRECTORY/<name>.h5``."""
    return [Dataset(check_name(name, f"datasets.simulate.{name}"), f"{directory}/{name}.h5",
                    simulation={key: value for key, value in settings.items() if key != WINDOWS_KEY},
                    windows=check_own_windows(settings.get(WINDOWS_KEY), f"datasets.simulate.{name}.{WINDOWS_KEY}"))
            for name, settings in simulations.items()]


def collect_datasets(section: Mapping[str, Any], simulated_directory: str) -> list[Dataset]:
    """Every dataset of the ``datasets`` section; a name used twice is an error."""
    datasets = []
    if "files" in section:
        datasets += from_files(section["files"])
    if "glob" in section:
        datasets += from_glob(section["glob"])
    if "sheet" in section:
        datasets += from_sheet(section["sheet"])
    if "simulate" in section:
        datasets += from_simulations(section["simulate"], simulated_directory)
    if not datasets:
        raise HeterodyneError("datasets: no dataset given (use files, glob, sheet or simulate)")
    seen: dict[str, str] = {}
    for dataset in datasets:
        if dataset.name in seen:
            raise HeterodyneError(f"datasets: name {dataset.name!r} is used twice ({seen[dataset.name]} "
                                  f"and {dataset.path})")
        seen[dataset.name] = dataset.path
    return datasets
