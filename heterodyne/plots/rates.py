"""The fitted rate functions over the analysed window: J_ref(t), J_sample(t), v(t) and f_s(t).

Each panel shows the NLSQ estimate with a 90 % band from draws of the NLSQ Gaussian and, when
CMC ran, the posterior median with its 90 % band from consensus draws
(:mod:`heterodyne.plots.parameter_draws`). The curves are the model's own functions, in the
order of PANELS.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heterodyne.plots.canvas import panel_grid, save_figure
from heterodyne.plots.model_values import rate_curves_at

BAND_PERCENTILES = (5.0, 95.0)
PANELS = (
    ("J_ref", "reference transport rate J_ref", "J_ref (Å²/s)"),
    ("J_sample", "sample transport rate J_sample", "J_sample (Å²/s)"),
    ("v", "velocity v", "v (Å/s)"),
    ("f_s", "sample fraction f_s", "f_s (dimensionless)"),
)


def band_width(low: np.ndarray, high: np.ndarray, centre: np.ndarray) -> str:
    """'widest ±x %': the band's largest half-width relative to the curve, so a band too narrow to
    see is still quantified."""
    scale = np.maximum(np.abs(centre), np.finfo(float).tiny)
    return f"widest ±{100 * float(np.max((high - low) / 2 / scale)):.2g} %"


def rates_figure(times: np.ndarray, estimate: dict, nlsq_band: dict, cmc_band: dict | None):
    """2×2 panels; ``estimate`` maps a curve name to (N,), the bands to ((N,) low, (N,) high)."""
    figure, axes = panel_grid(10.0, 7.0, 2, 2, margins=(0.9, 0.2, 0.55, 0.75), gaps=(0.95, 0.5), sharex=True)
    axes = axes.ravel()
    for axis, (name, title, label) in zip(axes, PANELS, strict=True):
        low, high = nlsq_band[name]
        axis.fill_between(times, low, high, color="C0", alpha=0.3, linewidth=0,
                          label=f"NLSQ 90 % band ({band_width(low, high, estimate[name])})")
        axis.plot(times, estimate[name], color="C0", label="NLSQ estimate")
        if cmc_band is not None:
            low, median, high = cmc_band[name]
            axis.fill_between(times, low, high, color="C1", alpha=0.3, linewidth=0,
                              label=f"CMC 90 % band ({band_width(low, high, median)})")
            axis.plot(times, median, "--", color="C1", label="CMC median")
        axis.set(title=title, ylabel=label)
        axis.margins(x=0)
    for axis in axes[2:]:
        axis.set_xlabel("t (s)")
    for axis in axes:
        axis.legend(fontsize="x-small")
    figure.suptitle(f"rate functions over the analysed window {times[0]:.3g}–{times[-1]:.3g} s")
    return figure


def rate_bands(times: np.ndarray, estimate: np.ndarray, nlsq_draws: np.ndarray,
               cmc_draws: np.ndarray | None) -> tuple[dict, dict, dict | None]:
    """The curves of PANELS at ``times`` from the NLSQ estimate (14,) and draws (S, 14), in one
    model evaluation: (estimate {name: (N,)}, NLSQ band {name: ((N,) 5 %, (N,) 95 %)}, CMC band
    {name: ((N,) 5 %, median, 95 %)} or None without CMC draws)."""
    groups = [estimate[None, :], nlsq_draws] + ([cmc_draws] if cmc_draws is not None else [])
    curves = rate_curves_at(np.concatenate(groups), times)
    bounds = np.cumsum([0] + [group.shape[0] for group in groups])
    estimate_curves, nlsq_curves, *cmc_curves = (curves[:, a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True))
    names = [name for name, _, _ in PANELS]
    central = dict(zip(names, estimate_curves[:, 0], strict=True))
    nlsq_band = dict(zip(names, np.percentile(nlsq_curves, BAND_PERCENTILES, axis=1).swapaxes(0, 1), strict=True))
    cmc_band = None
    if cmc_curves:
        percentiles = (BAND_PERCENTILES[0], 50.0, BAND_PERCENTILES[1])
        cmc_band = dict(zip(names, np.percentile(cmc_curves[0], percentiles, axis=1).swapaxes(0, 1), strict=True))
    return central, nlsq_band, cmc_band


def write_rates(directory: Path, image_format: str, *, times: np.ndarray, estimate: np.ndarray,
                nlsq_draws: np.ndarray, cmc_draws: np.ndarray | None) -> list[Path]:
    """``rates`` under ``directory`` from the NLSQ estimate (14,) and draws (S, 14); returns its path."""
    figure = rates_figure(times, *rate_bands(times, estimate, nlsq_draws, cmc_draws))
    return [save_figure(figure, directory, "rates", image_format)]
