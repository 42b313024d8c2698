"""Figures of a fit: for every angle, the measured c2, the fitted model and the residuals.

Large matrices are shown on every k-th frame (k = ⌈N / MAX_PLOT_FRAMES⌉) so that a figure never
needs more than a few MB, whatever N is.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from heterodyne.results import atomic_write_bytes

MAX_PLOT_FRAMES = 500


def fit_figure(data: np.ndarray, fitted: np.ndarray, sigma: float, times: np.ndarray, title: str) -> bytes:
    """PNG bytes of one angle: data, model (same colour scale) and (data − model)/σ."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    extent = (times[0], times[-1], times[0], times[-1])
    upper = np.triu(np.ones_like(data, dtype=bool), k=1)
    low, high = np.percentile(data[upper], [1, 99])
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.2), constrained_layout=True)
    panels = (
        (data, "data", "viridis", low, high),
        (fitted, "model", "viridis", low, high),
        ((data - fitted) / sigma, "(data − model) / σ", "RdBu_r", -4, 4),
    )
    for axis, (image, label, colours, vmin, vmax) in zip(axes, panels, strict=False):
        shown = axis.imshow(image, origin="lower", extent=extent, cmap=colours, vmin=vmin, vmax=vmax)
        axis.set(title=label, xlabel="t₂ (s)", ylabel="t₁ (s)")
        figure.colorbar(shown, ax=axis, shrink=0.85)
    figure.suptitle(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return buffer.getvalue()


def model_on_frames(theta, contrast, offset, *, times, q, phi, frame_index: np.ndarray) -> np.ndarray:
    """The fitted c2, (A, n, n), at the frames ``frame_index``: the integrals still run over every
    frame (model.c2_points), so the picture is the model that was fitted, only sparser."""
    from heterodyne.model import c2_points

    n_angles, n_shown = len(q), frame_index.size
    rows, columns = np.meshgrid(frame_index, frame_index, indexing="ij")
    values = c2_points(theta, contrast, offset, t=times, q=q, phi=phi,
                       angle_index=np.repeat(np.arange(n_angles), n_shown * n_shown),
                       i=np.tile(rows.ravel(), n_angles), j=np.tile(columns.ravel(), n_angles))
    return np.asarray(values).reshape(n_angles, n_shown, n_shown)


def write_fit_plots(directory: Path, c2: np.ndarray, theta, contrast, offset, *, sigma: float,
                    times: np.ndarray, q: np.ndarray, phi: np.ndarray) -> list[Path]:
    """One PNG per angle under ``directory`` (data, model, residuals); returns their paths."""
    frame_index = np.arange(0, times.size, max(1, math.ceil(times.size / MAX_PLOT_FRAMES)))
    fitted = model_on_frames(theta, contrast, offset, times=times, q=q, phi=phi, frame_index=frame_index)
    shown = np.ix_(frame_index, frame_index)
    paths = []
    for angle in range(c2.shape[0]):
        path = directory / f"c2_fit_{angle:02d}.png"
        title = f"q = {q[angle]:.4g} 1/Å, φ = {phi[angle]:.4g}°"
        atomic_write_bytes(path, fit_figure(c2[angle][shown], fitted[angle], sigma, times[frame_index], title))
        paths.append(path)
    return paths
