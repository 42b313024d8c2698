"""Corner plot of the CMC consensus posterior of the sampled physics parameters, NLSQ marked.

Diagonal: each parameter's histogram with its 5 %/95 % quantiles (dashed) and the NLSQ estimate
(red). Below it: pairwise scatter of (at most MAX_SCATTER) draws with the NLSQ estimate as a red
cross. Scatter is rasterised so that vector formats stay small.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heterodyne.plots.canvas import panel_grid, save_figure
from heterodyne.plots.labels import parameter_label

MAX_SCATTER = 2000
HISTOGRAM_BINS = 30
PANEL_INCHES = 1.7
MAX_WIDTH = 15.0


def axis_limits(values: np.ndarray, marked: float) -> tuple[float, float]:
    """A range covering the draws and the marked value, with 5 % padding (never empty)."""
    low, high = min(values.min(), marked), max(values.max(), marked)
    pad = 0.05 * (high - low) or 0.05 * abs(high) or 1.0
    return low - pad, high + pad


def corner_figure(draws: np.ndarray, names: list[str], nlsq: np.ndarray):
    """Lower-triangle grid for ``draws`` (S, P) of ``names``; ``nlsq`` (P,) the NLSQ estimate."""
    n = len(names)
    size = min(MAX_WIDTH, PANEL_INCHES * n + 1.0)
    figure, axes = panel_grid(size, size, n, n, margins=(0.75, 0.15, 0.8, 0.5), gaps=(0.1, 0.3))
    limits = [axis_limits(draws[:, k], nlsq[k]) for k in range(n)]
    shown = draws[np.unique(np.linspace(0, draws.shape[0] - 1, min(MAX_SCATTER, draws.shape[0])).astype(int))]
    for row in range(n):
        for column in range(n):
            axis = axes[row, column]
            if column > row:
                figure.delaxes(axis)
                continue
            if column == row:
                axis.hist(draws[:, row], bins=HISTOGRAM_BINS, color="0.4", histtype="stepfilled", alpha=0.6)
                for quantile in np.percentile(draws[:, row], (5.0, 95.0)):
                    axis.axvline(quantile, color="0.2", linestyle="--", linewidth=0.8)
                axis.axvline(nlsq[row], color="red", linewidth=1.2)
                axis.set_yticks([])
                axis.set_title(names[row], fontsize="small")
            else:
                axis.scatter(shown[:, column], shown[:, row], s=1.5, color="0.3", alpha=0.3, rasterized=True,
                             linewidths=0)
                axis.plot(nlsq[column], nlsq[row], "x", color="red", markersize=7, markeredgewidth=1.5)
            axis.set_xlim(limits[column])
            if column != row:
                axis.set_ylim(limits[row])
            if row == n - 1:
                axis.set_xlabel(parameter_label(names[column]), fontsize="small")
                axis.tick_params(axis="x", labelrotation=45, labelsize="x-small")
            else:
                axis.set_xticklabels([])
            if column == 0 and row > 0:
                axis.set_ylabel(parameter_label(names[row]), fontsize="small")
                axis.tick_params(axis="y", labelsize="x-small")
            elif column != row:
                axis.set_yticklabels([])
    figure.suptitle("CMC consensus posterior (grey; dashed: 5 %, 95 %) and NLSQ estimate (red)")
    return figure


def write_corner(directory: Path, image_format: str, *, cmc: dict[str, np.ndarray], sampled: list[str]) -> list[Path]:
    """``cmc_corner`` under ``directory``; returns its path in a list."""
    names = list(cmc["names"])
    columns = [names.index(name) for name in sampled]
    consensus = np.asarray(cmc["consensus"], dtype=float)
    draws = consensus.reshape(-1, consensus.shape[-1])[:, columns]
    figure = corner_figure(draws, sampled, np.asarray(cmc["nlsq_values"], dtype=float)[columns])
    return [save_figure(figure, directory, "cmc_corner", image_format)]
