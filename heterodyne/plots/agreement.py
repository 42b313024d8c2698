"""NLSQ versus CMC for every run that has both: per varied parameter, the CMC posterior mean
(5–95 % interval) against the NLSQ estimate (± stderr), with the line of equality.

Each panel's title gives the median of |CMC − NLSQ| / √(stderr² + sd²) over the runs: values near
or below 1 mean the two methods agree within their uncertainties.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from heterodyne.plots.canvas import new_figure, save_figure
from heterodyne.plots.labels import parameter_label
from heterodyne.plots.summary_table import SummaryTable
from heterodyne.plots.trends import error_bars

MAX_COLUMNS = 3


def method_pairs(table: SummaryTable) -> list[tuple[int, int]]:
    """(NLSQ row, CMC row) of every dataset, run and seed that has both."""
    def key(row: dict) -> tuple:
        return row["dataset"], row["run"], row["seed"]

    nlsq = {key(row): number for number, row in enumerate(table.rows) if row["method"] == "nlsq"}
    return [(nlsq[key(row)], number) for number, row in enumerate(table.rows)
            if row["method"] == "cmc" and key(row) in nlsq]


def agreement_figure(table: SummaryTable, pairs: list[tuple[int, int]]):
    """One panel per varied parameter: CMC against NLSQ for each pair."""
    n_panels = len(table.varied)
    columns = min(MAX_COLUMNS, n_panels)
    rows = math.ceil(n_panels / columns)
    figure = new_figure(4.0 * columns, 3.8 * rows + 0.4)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis, name in zip(axes, table.varied, strict=False):
        used = [(n, c) for n, c in pairs if table.is_varied(n, name) and table.is_varied(c, name)]
        if not used:
            axis.set(title=f"{name}: no run varied it in both")
            continue
        nlsq_rows, cmc_rows = [n for n, _ in used], [c for _, c in used]
        x = np.array([table.number(r, name) for r in nlsq_rows])
        y = np.array([table.number(r, name) for r in cmc_rows])
        axis.errorbar(x, y, xerr=error_bars(table, nlsq_rows, name, "nlsq"),
                      yerr=error_bars(table, cmc_rows, name, "cmc"), fmt="o", markersize=4, capsize=2)
        span = [np.nanmin(np.concatenate([x, y])), np.nanmax(np.concatenate([x, y]))]
        axis.plot(span, span, "--", color="0.5", linewidth=1)
        spread = np.hypot([table.number(r, f"{name}_err") for r in nlsq_rows],
                          [table.number(r, f"{name}_err") for r in cmc_rows])
        with np.errstate(divide="ignore", invalid="ignore"):
            pull = np.where(spread > 0, np.abs(y - x) / spread, np.nan)
        summary = f"median |Δ|/σ = {np.nanmedian(pull):.2g}" if np.isfinite(pull).any() else "no errors"
        axis.locator_params(nbins=5)
        axis.set(title=f"{table.title(name)}: {summary}", xlabel=f"NLSQ {parameter_label(name)}",
                 ylabel=f"CMC {parameter_label(name)}")
    for axis in axes[n_panels:]:
        figure.delaxes(axis)
    figure.suptitle(f"NLSQ versus CMC ({len(pairs)} runs; dashed: equality)")
    return figure


def write_agreement(table: SummaryTable, directory: Path, image_format: str) -> list[Path]:
    """``nlsq_vs_cmc`` under ``directory`` when some run has both methods; returns the paths."""
    pairs = method_pairs(table)
    if not pairs or not table.varied:
        return []
    return [save_figure(agreement_figure(table, pairs), directory, "nlsq_vs_cmc", image_format)]
