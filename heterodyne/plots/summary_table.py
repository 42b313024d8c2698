"""summary.csv of a sweep (one row per run and method), read for the across-run figures.

Columns (the workflow's contract): dataset, run, seed, method (nlsq|cmc), one column per sweep key
named by its dotted path (the only names containing "."), status, varied (";"-joined physics
names; a tied one as ``name=target``), and per physics name ``<name>``, ``<name>_err``,
``<name>_q05``, ``<name>_q95`` (empty where not applicable), among others.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from heterodyne.errors import HeterodyneError
from heterodyne.parameters import PHYSICS_NAMES
from heterodyne.run_tables import RUN_KEYS, VALUE_SUFFIXES

REQUIRED_COLUMNS = (*RUN_KEYS, "method", "status", "varied")


@dataclass(frozen=True)
class SummaryTable:
    """The rows as dicts of strings, the sweep columns and every physics name varied in some row."""

    path: Path
    rows: list[dict[str, str]]
    sweep_columns: list[str]
    varied: list[str]

    def number(self, row_number: int, column: str) -> float:
        """The value of ``column`` in row ``row_number`` (0-based) as a float; empty cells are NaN."""
        text = (self.rows[row_number].get(column) or "").strip()
        if not text:
            return math.nan
        try:
            return float(text)
        except ValueError:
            raise HeterodyneError(f"{self.path}: row {row_number + 2}, column {column}: "
                                  f"{text!r} is not a number") from None

    def is_varied(self, row_number: int, name: str) -> bool:
        """Whether row ``row_number`` fitted ``name`` (it is in that row's ``varied`` list, on its
        own or as ``name=target``: tied to ``target``)."""
        return name in varied_names(self.rows[row_number]["varied"])

    def title(self, name: str) -> str:
        """``name``, with `` = target`` for each parameter some row ties it to."""
        targets = sorted({entry.partition("=")[2] for row in self.rows for entry in (row["varied"] or "").split(";")
                          if entry.partition("=")[0] == name and "=" in entry})
        return " = ".join([name, *targets])


def varied_names(cell: str | None) -> list[str]:
    """The parameters of a ``varied`` cell: fitted ones, and tied ones written ``name=target``."""
    return [entry.partition("=")[0] for entry in (cell or "").split(";") if entry]


def read_summary(path: Path) -> SummaryTable:
    """Read and check ``path``: the required columns present, at least one row, known methods."""
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            columns = list(reader.fieldnames or [])
            rows = list(reader)
    except OSError as error:
        raise HeterodyneError(f"{path}: cannot read ({error.strerror or error})") from error
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise HeterodyneError(f"{path}: missing column(s) {', '.join(missing)}")
    if not rows:
        raise HeterodyneError(f"{path}: no rows")
    for number, row in enumerate(rows):
        if (row["method"] or "") not in ("nlsq", "cmc"):
            raise HeterodyneError(f"{path}: row {number + 2}, column method: {row['method']!r} is not nlsq or cmc")
    named = {name for row in rows for name in varied_names(row["varied"])}
    unknown = sorted(named - set(PHYSICS_NAMES))
    if unknown:
        raise HeterodyneError(f"{path}: column varied names unknown parameter(s) {', '.join(unknown)}")
    varied = [name for name in PHYSICS_NAMES if name in named]
    needed = [name + suffix for name in varied for suffix in VALUE_SUFFIXES if name + suffix not in columns]
    if needed:
        raise HeterodyneError(f"{path}: missing column(s) {', '.join(needed)}")
    return SummaryTable(path=Path(path), rows=rows, sweep_columns=[c for c in columns if "." in c], varied=varied)
