"""Sweep trends: every varied physics parameter against each sweep variable of a summary.csv.

One figure per sweep column (``trend_<column>``; against ``run`` when the sweep has no columns),
one panel per parameter. One series per dataset, seed and value of the other sweep columns;
NLSQ as circles with ± stderr, CMC as squares with its 5–95 % interval, nudged sideways so the two
do not hide each other. Open markers: runs whose status is not "converged".
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from heterodyne.plots.canvas import new_figure, save_figure
from heterodyne.plots.labels import parameter_label
from heterodyne.plots.summary_table import SummaryTable

MARKERS = {"nlsq": "o", "cmc": "s"}
METHOD_NUDGE = 0.015  # CMC points move right by this fraction of the x range
MAX_COLUMNS = 3


def x_positions(table: SummaryTable, column: str) -> tuple[np.ndarray, list[str] | None]:
    """Per row, the x of ``column``: its number, or for text values the index of the category
    (then also the category names, in order of first appearance)."""
    values = [(row.get(column) or "").strip() for row in table.rows]
    try:
        return np.array([float(value) if value else math.nan for value in values]), None
    except ValueError:
        categories = list(dict.fromkeys(values))
        return np.array([categories.index(value) for value in values], dtype=float), categories


def series_keys(table: SummaryTable, column: str) -> list[str]:
    """Per row, the name of its series: dataset, seed and the values of the other sweep columns."""
    others = [c for c in table.sweep_columns if c != column]
    keys = []
    for row in table.rows:
        parts = [row["dataset"], f"seed {row['seed']}"] + [f"{c.rsplit('.', 1)[-1]}={row.get(c)}" for c in others]
        keys.append(", ".join(part for part in parts if part))
    return keys


def error_bars(table: SummaryTable, rows: list[int], name: str, method: str) -> np.ndarray:
    """(2, n) lower and upper error lengths: ± stderr for NLSQ, the 5–95 % interval for CMC
    (± sd where the interval is missing); NaN draws no bar."""
    value = np.array([table.number(r, name) for r in rows])
    spread = np.array([table.number(r, f"{name}_err") for r in rows])
    if method == "nlsq":
        return np.vstack([spread, spread])
    low = np.array([table.number(r, f"{name}_q05") for r in rows])
    high = np.array([table.number(r, f"{name}_q95") for r in rows])
    return np.vstack([np.where(np.isnan(low), spread, value - low), np.where(np.isnan(high), spread, high - value)])


def trend_figure(table: SummaryTable, column: str):
    """The figure of every varied parameter against ``column``."""
    x, categories = x_positions(table, column)
    keys = series_keys(table, column)
    series = list(dict.fromkeys(keys))
    finite = x[np.isfinite(x)]
    nudge = METHOD_NUDGE * (np.ptp(finite) if finite.size > 1 and np.ptp(finite) > 0 else 1.0)
    n_panels = len(table.varied)
    columns = min(MAX_COLUMNS, n_panels)
    rows = math.ceil(n_panels / columns)
    figure = new_figure(4.2 * columns + 2.5, 3.2 * rows + 0.5)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis, name in zip(axes, table.varied, strict=False):
        for number, key in enumerate(series):
            for method, marker in MARKERS.items():
                picked = [r for r in range(len(table.rows)) if keys[r] == key and table.rows[r]["method"] == method
                          and table.is_varied(r, name)]
                if not picked:
                    continue
                picked.sort(key=lambda r: x[r])
                shift = nudge if method == "cmc" else 0.0
                xs = x[picked] + shift
                ys = np.array([table.number(r, name) for r in picked])
                converged = np.array([table.rows[r]["status"] == "converged" for r in picked])
                colour = f"C{number % 10}"
                axis.errorbar(xs, ys, yerr=error_bars(table, picked, name, method), color=colour,
                              linestyle="-" if method == "nlsq" else ":", linewidth=0.8, capsize=2)
                axis.plot(xs[converged], ys[converged], marker, color=colour, markersize=5)
                axis.plot(xs[~converged], ys[~converged], marker, color=colour, markersize=5, markerfacecolor="none")
        axis.locator_params(axis="y", nbins=6)
        axis.set(title=table.title(name), xlabel=column, ylabel=parameter_label(name))
        if categories is not None:
            axis.set_xticks(range(len(categories)), categories, rotation=30, ha="right")
    for axis in axes[n_panels:]:
        figure.delaxes(axis)
    figure.legend(handles=legend_handles(series), loc="outside right upper", fontsize="small")
    figure.suptitle(f"fitted parameters against {column}")
    return figure


def legend_handles(series: list[str]) -> list:
    """One colour per series, then the marker meaning of each method and of open markers."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=f"C{k % 10}", marker="o", label=key) for k, key in enumerate(series)]
    handles += [
        Line2D([], [], color="0.3", marker="o", linestyle="-", label="NLSQ ± stderr"),
        Line2D([], [], color="0.3", marker="s", linestyle=":", label="CMC, 5–95 %"),
        Line2D([], [], color="0.3", marker="o", markerfacecolor="none", linestyle="none", label="not converged"),
    ]
    return handles


def figure_stem(column: str) -> str:
    """``trend_<column>`` with every character other than letters, digits and _ made _."""
    return "trend_" + re.sub(r"\W", "_", column)


def write_trends(table: SummaryTable, directory: Path, image_format: str) -> list[Path]:
    """One trend figure per sweep column (or against ``run``) under ``directory``; returns the paths."""
    if not table.varied:
        return []
    return [save_figure(trend_figure(table, column), directory, figure_stem(column), image_format)
            for column in table.sweep_columns or ["run"]]
