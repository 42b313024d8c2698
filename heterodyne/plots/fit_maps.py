"""Per angle, side by side on the same time axes: measured c2, fitted model and (data − model)/σ.

Data and model share one colour scale set by robust percentiles of the off-diagonal data; the
residual map is centred on zero with a diverging colour map. The diagonal (shot-noise excess,
never fitted) is masked in every panel. Large matrices are shown on every k-th frame,
k = ⌈N / MAX_PLOT_FRAMES⌉: a panel is ~340 pixels wide, so more frames would not be seen.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from heterodyne.plots.canvas import new_figure, save_figure
from heterodyne.plots.model_values import c2_at

MAX_PLOT_FRAMES = 340
DATA_PERCENTILES = (1.0, 99.0)
RESIDUAL_PERCENTILE = 99.0
MIN_RESIDUAL_LIMIT = 3.0
MASKED_COLOUR = "0.8"

# figure layout in inches: three square panels, a shared colour bar for data and model, one for residuals
PANEL, WIDTH, HEIGHT, BOTTOM = 3.3, 13.4, 4.75, 0.6
PANEL_LEFT = (0.75, 4.2, 9.1)
COLOUR_BAR_LEFT = (7.6, 12.45)
COLOUR_BAR_WIDTH = 0.15


def shown_frames(n_frames: int) -> np.ndarray:
    """Indices of the frames drawn: every k-th, k = ⌈N / MAX_PLOT_FRAMES⌉."""
    return np.arange(0, n_frames, max(1, math.ceil(n_frames / MAX_PLOT_FRAMES)))


def model_on_frames(theta, contrast, offset, *, times, q, phi, frame_index: np.ndarray) -> np.ndarray:
    """The fitted c2, (A, n, n), at the frames ``frame_index``: the integrals still run over every
    frame (model.c2_points), so the picture is the model that was fitted, only sparser."""
    n_angles, n_shown = len(q), frame_index.size
    rows, columns = np.meshgrid(frame_index, frame_index, indexing="ij")
    values = c2_at(theta, contrast, offset, times=times, q=q, phi=phi,
                   angle_index=np.repeat(np.arange(n_angles), n_shown * n_shown),
                   i=np.tile(rows.ravel(), n_angles), j=np.tile(columns.ravel(), n_angles))
    return np.asarray(values).reshape(n_angles, n_shown, n_shown)


def sigma_on_frames(noise: dict, c2: np.ndarray, frame_index: np.ndarray) -> np.ndarray:
    """σ of every shown (i, j): the fit's uniform σ, or its per-lag σ when it weighted by lag."""
    if noise.get("weights") == "lag_noise":
        from heterodyne.noise import estimate_sigma_per_lag

        lag = np.abs(frame_index[:, None] - frame_index[None, :])
        return estimate_sigma_per_lag(c2)[lag]
    return np.full((frame_index.size, frame_index.size), float(noise["sigma"]))


def _masked_diagonal(image: np.ndarray) -> np.ma.MaskedArray:
    return np.ma.masked_array(image, mask=np.eye(image.shape[0], dtype=bool))


def _axes_at(figure, left: float, width: float, height: float = PANEL):
    """Axes placed in inches from the lower left corner (fixed layout: faster than constrained)."""
    return figure.add_axes((left / WIDTH, BOTTOM / HEIGHT, width / WIDTH, height / HEIGHT))


def fit_map_figure(data: np.ndarray, fitted: np.ndarray, residual: np.ndarray, times: np.ndarray, title: str):
    """The figure of one angle from (n, n) data, model and standardised residuals at ``times`` (s)."""
    from matplotlib import colormaps

    off_diagonal = ~np.eye(data.shape[0], dtype=bool)
    low, high = np.percentile(data[off_diagonal], DATA_PERCENTILES)
    limit = max(MIN_RESIDUAL_LIMIT, float(np.percentile(np.abs(residual[off_diagonal]), RESIDUAL_PERCENTILE)))
    rms = float(np.sqrt(np.mean(residual[off_diagonal] ** 2)))
    figure = new_figure(WIDTH, HEIGHT, constrained=False)
    extent = (times[0], times[-1], times[0], times[-1])
    panels = (
        (data, "data", "viridis", low, high),
        (fitted, "model (NLSQ)", "viridis", low, high),
        (residual, f"(data − model) / σ   (rms {rms:.2f})", "RdBu_r", -limit, limit),
    )
    images = []
    for left, (image, label, colours, vmin, vmax) in zip(PANEL_LEFT, panels, strict=True):
        axis = _axes_at(figure, left, PANEL)
        cmap = colormaps[colours].with_extremes(bad=MASKED_COLOUR)
        images.append(axis.imshow(_masked_diagonal(image), origin="lower", extent=extent, cmap=cmap,
                                  vmin=vmin, vmax=vmax, interpolation="nearest"))
        axis.set(title=label, xlabel="t₂ (s)", ylabel="t₁ (s)")
    figure.axes[1].tick_params(labelleft=False)  # same t₁ axis as the data panel beside it
    figure.axes[1].set_ylabel("")
    for left, image, label in zip(COLOUR_BAR_LEFT, images[1:], ("c₂ (dimensionless)", "residual (units of σ)"),
                                  strict=True):
        figure.colorbar(image, cax=_axes_at(figure, left, COLOUR_BAR_WIDTH), label=label)
    figure.suptitle(title, y=0.985)
    return figure


def write_fit_maps(directory: Path, image_format: str, *, c2: np.ndarray, times: np.ndarray, theta,
                   contrast, offset, q: np.ndarray, phi: np.ndarray, noise: dict) -> list[Path]:
    """``c2_fit_NN`` per angle under ``directory``; returns the paths."""
    frame_index = shown_frames(times.size)
    fitted = model_on_frames(theta, contrast, offset, times=times, q=q, phi=phi, frame_index=frame_index)
    sigma = sigma_on_frames(noise, c2, frame_index)
    shown = np.ix_(frame_index, frame_index)
    paths = []
    for angle in range(c2.shape[0]):
        data = c2[angle][shown]
        title = f"angle {angle}: q = {q[angle]:.4g} Å⁻¹, φ = {phi[angle]:.4g}°"
        figure = fit_map_figure(data, fitted[angle], (data - fitted[angle]) / sigma, times[frame_index], title)
        paths.append(save_figure(figure, directory, f"c2_fit_{angle:02d}", image_format))
    return paths
