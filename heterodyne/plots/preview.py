"""Figures of the data alone, before any fit (heterodyne/preview.py computes what they show).

- ``preview_maps``: every bin's c2 map (every k-th frame, k = ⌈N / MAX_MAP_FRAMES⌉), the diagonal
  masked, each on its own 1st–99th percentile colour scale;
- ``preview_cuts``: per bin, c2 along the lag at four ages (start, ¼, ½, ¾ of the window) and
  the lag profile g(τ) averaged over all ages;
- ``preview_spectra``: per bin, the periodogram of the detrended lag profile with its detection
  threshold, the searched band and the Nyquist frequency; detected fringes marked;
- ``preview_bins``: contrast, noise and fringe frequency against φ, one line per q.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from heterodyne.plots.canvas import new_figure, panel_grid, save_figure
from heterodyne.plots.cuts import cut_frames
from heterodyne.preview import MIN_CYCLES, BinPreview

MAX_MAP_FRAMES = 200
MAX_COLUMNS = 5
PANEL = 2.4


def _grid(count: int, height: float = PANEL):
    columns = min(MAX_COLUMNS, count)
    rows = math.ceil(count / columns)
    figure, axes = panel_grid(columns * (PANEL + 0.6) + 0.5, rows * (height + 0.75) + 0.6, rows, columns,
                              margins=(0.8, 0.1, 0.5, 0.6), gaps=(0.85, 0.75))
    axes = axes.ravel()
    for axis in axes[count:]:
        axis.set_visible(False)
    return figure, axes[:count]


def _title(preview: BinPreview) -> str:
    return f"{preview.key}: q {preview.q:.4g}, φ {preview.phi:.4g}°"


def maps_figure(c2: np.ndarray, times: np.ndarray, previews: list[BinPreview]):
    """Every bin's c2 map on every k-th frame."""
    shown = np.arange(0, times.size, max(1, math.ceil(times.size / MAX_MAP_FRAMES)))
    figure, axes = _grid(len(previews))
    extent = (times[0], times[-1], times[0], times[-1])
    mask = np.eye(shown.size, dtype=bool)
    for axis, matrix, preview in zip(axes, c2, previews, strict=True):
        image = matrix[np.ix_(shown, shown)]
        low, high = np.percentile(image[~mask], (1.0, 99.0))
        axis.imshow(np.ma.masked_array(image, mask=mask), origin="lower", extent=extent, vmin=low, vmax=high,
                    cmap="viridis", interpolation="nearest")
        axis.set(title=_title(preview), xlabel="t₂ (s)", ylabel="t₁ (s)")
        axis.title.set_fontsize("small")
    figure.suptitle("c2 of every bin (colour: 1st–99th percentile per bin)")
    return figure


def cuts_figure(c2: np.ndarray, times: np.ndarray, dt: float, previews: list[BinPreview]):
    """Per bin: cuts along the lag at four ages, and the lag profile over all ages."""
    figure, axes = _grid(len(previews))
    cuts = cut_frames(times.size)
    for axis, matrix, preview in zip(axes, c2, previews, strict=True):
        for start, later in cuts:
            axis.plot((later - start) * dt, matrix[start, later], ".", markersize=1.5,
                      label=f"t₁ = {times[start]:.3g} s")
        lags = np.arange(1, preview.lag_profile.size) * dt
        axis.plot(lags, preview.lag_profile[1:], color="black", linewidth=1.0, label="all ages")
        axis.set(title=_title(preview), xlabel="lag τ (s)", ylabel="c2")
        axis.title.set_fontsize("small")
    axes[0].legend(fontsize="xx-small", markerscale=4)
    figure.suptitle("c2 along the lag at four ages t₁ (dots) and averaged over all ages (line)")
    return figure


def spectra_figure(dt: float, previews: list[BinPreview]):
    """Per bin: the lag profile's periodogram, the threshold, the band searched, the Nyquist frequency."""
    figure, axes = _grid(len(previews))
    nyquist = 1.0 / (2.0 * dt)
    for axis, preview in zip(axes, previews, strict=True):
        fringes = preview.fringes
        positive = fringes.frequencies > 0
        axis.semilogy(fringes.frequencies[positive], np.maximum(fringes.power[positive], np.finfo(float).tiny),
                      linewidth=0.8)
        axis.axhline(fringes.threshold, color="C3", linestyle="--", linewidth=0.8, label="threshold")
        n_lags = preview.lag_profile.size // 2
        axis.axvspan(0, MIN_CYCLES / (n_lags * dt), color="0.85", label="not searched")
        axis.axvline(nyquist, color="0.4", linewidth=0.8, label="Nyquist")
        if fringes.present:
            axis.plot(fringes.peak_frequency, fringes.threshold * fringes.peak_ratio, "v", color="C3",
                      label=f"fringes {fringes.peak_frequency:.3g} Hz")
            axis.legend(fontsize="xx-small")
        axis.set(title=_title(preview), xlabel="frequency (Hz)", ylabel="power")
        axis.title.set_fontsize("small")
    figure.suptitle("periodogram of the lag profile after removing its decays")
    return figure


def bins_figure(previews: list[BinPreview]):
    """Contrast, noise and fringe frequency against φ, one line per q."""
    figure = new_figure(12.0, 3.6)
    axes = figure.subplots(1, 3)
    for q in sorted({b.q for b in previews}):
        group = sorted((b for b in previews if b.q == q), key=lambda b: b.phi)
        phi = [b.phi for b in group]
        axes[0].plot(phi, [b.contrast for b in group], "o-", label=f"q = {q:.4g} Å⁻¹")
        axes[1].plot(phi, [b.noise for b in group], "o-")
        axes[2].plot(phi, [b.fringes.peak_frequency if b.fringes.present else np.nan for b in group], "o")
    axes[0].set(title="contrast g(1) − baseline", xlabel="φ (°)", ylabel="contrast")
    axes[1].set(title="noise σ per element", xlabel="φ (°)", ylabel="σ")
    axes[2].set(title="fringe frequency (detected only)", xlabel="φ (°)", ylabel="Hz")
    axes[0].legend(fontsize="x-small")
    return figure


def write_preview_figures(directory: Path, image_format: str, *, c2: np.ndarray, times: np.ndarray, dt: float,
                          previews: list[BinPreview]) -> list[Path]:
    """The four preview figures under ``directory``; returns their paths."""
    figures = (("preview_maps", maps_figure(c2, times, previews)),
               ("preview_cuts", cuts_figure(c2, times, dt, previews)),
               ("preview_spectra", spectra_figure(dt, previews)),
               ("preview_bins", bins_figure(previews)))
    return [save_figure(figure, Path(directory), stem, image_format) for stem, figure in figures]


def preview_file(path: Path, output_dir: Path, *, q: float | None = None, phi: list[float] | None = None,
                 image_format: str = "png") -> tuple[list[str], list[Path]]:
    """Preview the bins of a two-time file (all, or those at ``q`` and ``phi``): the four figures
    and ``preview.txt`` (the text summary, with the data-driven start of the suggested selection)
    under ``output_dir``; returns (summary lines, paths)."""
    from heterodyne.data import load_file
    from heterodyne.plots.canvas import check_image_format
    from heterodyne.preview import preview_bins, suggested_start, summary_lines
    from heterodyne.results import atomic_write_bytes, check_writable

    check_image_format(image_format)
    output_dir = Path(output_dir)
    check_writable(output_dir)
    data = load_file(path, q=q, phi=phi)
    c2 = np.asarray(data.c2)
    times = np.asarray(data.times)
    previews = preview_bins(c2, data.dt, data.provenance["selected_bins"])
    lines = summary_lines(previews, file=data.provenance["file"], layout=data.provenance["layout"], dt=data.dt,
                          n_frames=data.n_frames, start=suggested_start(c2, times, previews))
    paths = write_preview_figures(output_dir, image_format, c2=c2, times=times, dt=data.dt,
                                  previews=previews)
    summary = output_dir / "preview.txt"
    atomic_write_bytes(summary, ("\n".join(lines) + "\n").encode())
    return lines, [*paths, summary]
