"""One-time cuts: c2 along the lag τ = t₂ − t₁ at a few ages t₁, data as dots, model as lines.

One panel per angle. The model is evaluated at the same (i, j) frame pairs as the data, with the
integrals over every frame, so each line is exactly the fitted model along that cut.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from heterodyne.plots.canvas import panel_grid, save_figure
from heterodyne.plots.model_values import c2_at

AGE_FRACTIONS = (0.0, 0.25, 0.5, 0.75)
MAX_POINTS_PER_CUT = 400
MAX_COLUMNS = 3


def cut_frames(n_frames: int) -> list[tuple[int, np.ndarray]]:
    """(i, js) per age: start frame i at each AGE_FRACTION of the window and up to
    MAX_POINTS_PER_CUT later frames j > i, evenly spaced to the last frame."""
    cuts = []
    for fraction in AGE_FRACTIONS:
        start = min(int(fraction * n_frames), n_frames - 2)
        later = np.arange(start + 1, n_frames)
        step = max(1, math.ceil(later.size / MAX_POINTS_PER_CUT))
        cuts.append((start, later[::step]))
    return cuts


def model_along_cuts(theta, contrast, offset, *, times, q, phi, cuts) -> list[list[np.ndarray]]:
    """The model along ``cuts``: per angle, a list with one array per cut (values at its js)."""
    n_angles = len(q)
    i = np.concatenate([np.full(js.size, start) for start, js in cuts])
    j = np.concatenate([js for _, js in cuts])
    values = np.asarray(c2_at(theta, contrast, offset, times=times, q=q, phi=phi,
                                  angle_index=np.repeat(np.arange(n_angles), i.size),
                                  i=np.tile(i, n_angles), j=np.tile(j, n_angles))).reshape(n_angles, i.size)
    bounds = np.cumsum([0] + [js.size for _, js in cuts])
    return [[row[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)] for row in values]


def cuts_figure(c2: np.ndarray, model: list, cuts, times: np.ndarray, q: np.ndarray, phi: np.ndarray):
    """One panel per angle: each cut's data (dots) and model (line) against τ in seconds."""
    n_angles = c2.shape[0]
    columns = min(MAX_COLUMNS, n_angles)
    rows = math.ceil(n_angles / columns)
    figure, axes = panel_grid(4.3 * columns, 3.3 * rows + 0.4, rows, columns,
                              margins=(0.8, 0.2, 0.55, 0.75), gaps=(0.8, 0.85))
    axes = axes.ravel()
    for angle, axis in enumerate(axes[:n_angles]):
        for number, (start, js) in enumerate(cuts):
            colour = f"C{number}"
            lag = times[js] - times[start]
            axis.plot(lag, c2[angle, start, js], ".", color=colour, markersize=2.5, alpha=0.5)
            axis.plot(lag, model[angle][number], "-", color=colour, linewidth=1.3,
                      label=f"t₁ = {times[start]:.3g} s")
        axis.set(title=f"q = {q[angle]:.4g} Å⁻¹, φ = {phi[angle]:.4g}°", xlabel="τ = t₂ − t₁ (s)",
                 ylabel="c₂ (dimensionless)")
    for axis in axes[n_angles:]:
        figure.delaxes(axis)
    axes[0].legend(title="dots: data, lines: model", fontsize="small", title_fontsize="small")
    figure.suptitle("one-time cuts at ages t₁")
    return figure


def write_cuts(directory: Path, image_format: str, *, c2: np.ndarray, times: np.ndarray, theta, contrast,
               offset, q: np.ndarray, phi: np.ndarray) -> list[Path]:
    """``c2_cuts`` under ``directory``; returns its path in a list."""
    cuts = cut_frames(times.size)
    model = model_along_cuts(theta, contrast, offset, times=times, q=q, phi=phi, cuts=cuts)
    return [save_figure(cuts_figure(c2, model, cuts, times, q, phi), directory, "c2_cuts", image_format)]
