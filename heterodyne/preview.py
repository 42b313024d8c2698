"""A look at two-time data before any fit: per bin its lag profile, contrast, noise and fringes.

For the full matrix C of one bin over N frames (dt apart):

- lag profile g(τ) = mean_i C[i, i + τ], τ = 0 … N − 1 frames (the diagonal averages);
- baseline = mean of g over the last LAG_TAIL of the lags, contrast = g(1) − baseline;
- noise σ = the robust per-element scale of :func:`heterodyne.noise.estimate_sigma`, and the
  signal-to-noise ratio contrast / σ; a bin is usable when it is at least MIN_USABLE_SNR;
- fringes (the heterodyne cross term cos(q cos(φ + φ0) ∫v dt), docs/model.md): the smooth decays
  of g over τ = 1 … L (L = N // 2, so every lag averages at least N/2 ages) are removed by a
  least-squares fit of a constant and DECAYS exponentials exp(−τ/s) with s log-spaced from 1 to
  L frames; the remainder, Hann-windowed and zero-padded, gives a periodogram P(f). Its noise
  floor is the median of P over the searched band divided by ln 2 (the periodogram of noise is
  exponentially distributed, whose median is ln 2 times its mean). The band starts at MIN_CYCLES
  cycles over the L lags (slower oscillations cannot be told from the decays). Fringes are
  present when the highest peak from one cycle over the L lags up lies in that band (so a strong
  slower oscillation's side lobes are not taken for fringes) and exceeds the floor by
  ln(M / FALSE_ALARM), M the number of
  independent frequencies searched: for pure noise, the chance of a false detection in a bin is
  then about FALSE_ALARM. Their frequency is the peak's (Hz; |q cos(φ + φ0) v| / 2π for a
  constant v);
- aliasing: a frequency above ALIAS_FRACTION of the Nyquist frequency 1 / (2 dt) means the phase
  moves by nearly π or more between frames, so the true frequency may be higher than the one seen.

The data look heterodyne when any bin has fringes. The suggested selection is the q with the most
usable bins with fringes (then the most usable bins, then the highest mean SNR) and its usable φ.

When the data look heterodyne and a selection is suggested, the preview also gives the start a fit
of that selection begins from with ``optimization.nlsq.start: auto``: the estimate of
:func:`heterodyne.nlsq.start_estimate.estimate_start` on the selection's matrices and times, from
the parameter table (initial values, vary flags, bounds) of the default config resolved for that
q and φ (:func:`heterodyne.config.parameter_table`, as :func:`heterodyne.nlsq.setup.build_problem`
reads it); the parameters that config varies are shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from heterodyne.config import parameter_table, resolve_config
from heterodyne.nlsq.start_estimate import estimate_start
from heterodyne.noise import estimate_sigma
from heterodyne.parameters import BY_NAME

LAG_TAIL = 0.1
MIN_USABLE_SNR = 1.0
DECAYS = 8
MIN_CYCLES = 3.0
FALSE_ALARM = 1e-3
PADDING = 8
ALIAS_FRACTION = 0.8


@dataclass(frozen=True)
class Fringes:
    """The fringe search of one bin: the detrended lag profile's periodogram and its verdict."""

    frequencies: np.ndarray
    power: np.ndarray
    threshold: float
    peak_frequency: float
    peak_ratio: float
    present: bool
    aliasing: bool


@dataclass(frozen=True)
class BinPreview:
    """One bin: key, label, (q, φ), lag profile, contrast, baseline, noise and fringes."""

    key: str
    label: int
    q: float
    phi: float
    lag_profile: np.ndarray
    contrast: float
    baseline: float
    noise: float
    fringes: Fringes

    @property
    def snr(self) -> float:
        return self.contrast / self.noise if self.noise > 0 else math.inf

    @property
    def usable(self) -> bool:
        return bool(self.snr >= MIN_USABLE_SNR)


@dataclass(frozen=True)
class Suggestion:
    """A q, its usable φ and those bins' keys (None and empty when no bin is usable)."""

    q: float | None
    phi: tuple[float, ...]
    keys: tuple[str, ...]


def lag_profiles(c2: np.ndarray) -> np.ndarray:
    """(A, N): g[a, τ] = mean_i c2[a, i, i + τ]."""
    return np.stack([np.diagonal(c2, offset=lag, axis1=1, axis2=2).mean(axis=1)
                     for lag in range(c2.shape[1])], axis=1)


def decay_basis(n_lags: int) -> np.ndarray:
    """(L, 1 + DECAYS): a constant and exp(−τ/s), τ = 1 … L, s log-spaced from 1 to L frames."""
    lags = np.arange(1, n_lags + 1, dtype=float)[:, None]
    scales = np.geomspace(1.0, max(n_lags, 2), DECAYS)[None, :]
    return np.hstack([np.ones((n_lags, 1)), np.exp(-lags / scales)])


def find_fringes(profile: np.ndarray, dt: float) -> Fringes:
    """The fringe search of one lag profile g(τ), τ = 0 … N − 1 (see the module docstring)."""
    n_lags = profile.size // 2
    values = profile[1:n_lags + 1]
    basis = decay_basis(n_lags)
    coefficients, *_ = np.linalg.lstsq(basis, values, rcond=None)
    remainder = (values - basis @ coefficients) * np.hanning(n_lags)
    power = np.abs(np.fft.rfft(remainder, n=PADDING * n_lags)) ** 2
    frequencies = np.fft.rfftfreq(PADDING * n_lags, d=dt)
    searched = frequencies >= MIN_CYCLES / (n_lags * dt)
    independent = max(int(searched.sum()) // PADDING, 1)
    floor = float(np.median(power[searched]) / math.log(2.0)) if searched.any() else 0.0
    threshold = floor * math.log(independent / FALSE_ALARM)
    if not searched.any() or floor <= 0:
        return Fringes(frequencies, power, threshold, math.nan, 0.0, False, False)
    considered = frequencies >= 1.0 / (n_lags * dt)
    peak = int(np.flatnonzero(considered)[np.argmax(power[considered])])
    ratio = float(power[peak] / threshold)
    present = ratio > 1.0 and bool(searched[peak])
    nyquist = 1.0 / (2.0 * dt)
    return Fringes(frequencies, power, threshold, float(frequencies[peak]), ratio, present,
                   present and frequencies[peak] > ALIAS_FRACTION * nyquist)


def preview_bins(c2: np.ndarray, dt: float, bins: list[dict]) -> list[BinPreview]:
    """The preview of every bin of an (A, N, N) stack; ``bins`` gives each one's key, label, q, φ."""
    profiles = lag_profiles(c2)
    tail = max(1, int(round(LAG_TAIL * c2.shape[1])))
    previews = []
    for matrix, profile, info in zip(c2, profiles, bins, strict=True):
        baseline = float(profile[-tail:].mean())
        previews.append(BinPreview(
            key=str(info["key"]), label=int(info["label"]), q=float(info["q"]), phi=float(info["phi"]),
            lag_profile=profile, contrast=float(profile[1] - baseline), baseline=baseline,
            noise=estimate_sigma(matrix[None]), fringes=find_fringes(profile, dt)))
    return previews


def suggest_selection(previews: list[BinPreview]) -> Suggestion:
    """The q with the most usable bins with fringes, then the most usable bins, then the highest
    mean SNR of its usable bins; and those bins' φ."""
    usable = [b for b in previews if b.usable]
    if not usable:
        return Suggestion(None, (), ())
    by_q: dict[float, list[BinPreview]] = {}
    for preview in usable:
        by_q.setdefault(preview.q, []).append(preview)

    def rank(q: float) -> tuple[int, int, float]:
        group = by_q[q]
        return (sum(b.fringes.present for b in group), len(group), float(np.mean([b.snr for b in group])))

    best = max(by_q, key=rank)
    return Suggestion(best, tuple(b.phi for b in by_q[best]), tuple(b.key for b in by_q[best]))


def looks_heterodyne(previews: list[BinPreview]) -> bool:
    """Whether any bin shows fringes."""
    return any(b.fringes.present for b in previews)


def suggested_start(c2: np.ndarray, times: np.ndarray, previews: list[BinPreview]) -> dict[str, float] | None:
    """The varied parameters of the data-driven start of a fit of the suggested selection (module
    docstring), by name; None when the data do not look heterodyne or no selection is suggested.
    ``c2`` (A, N, N) and ``previews`` (A) are the same bins, ``times`` (N) their frame times."""
    suggestion = suggest_selection(previews)
    if suggestion.q is None or not looks_heterodyne(previews):
        return None
    chosen = [k for k, b in enumerate(previews) if b.key in suggestion.keys]
    table = parameter_table(resolve_config({"experimental_data": {"q": suggestion.q, "phi": list(suggestion.phi)}}))
    initial, vary, lower, upper = (np.array([row[column] for row in table]) for column in
                                   ("initial", "vary", "lower", "upper"))
    start = estimate_start(c2[chosen], np.array([previews[k].q for k in chosen]),
                           np.array([previews[k].phi for k in chosen]), times, initial, vary.astype(bool),
                           lower, upper)
    return {row["name"]: float(value) for row, value in zip(table, start, strict=True) if row["vary"]}


def start_lines(previews: list[BinPreview], start: dict[str, float] | None) -> list[str]:
    """The data-driven start under its heading, or one line saying why there is none."""
    heading = "data-driven start (optimization.nlsq.start: auto) for the suggested selection"
    if suggest_selection(previews).q is None:
        return [f"{heading}: none (no selection suggested)"]
    if start is None:
        return [f"{heading}: none (the data do not look heterodyne)"]
    units = {name: "" if BY_NAME[name].unit == "-" else f" {BY_NAME[name].unit}" for name in start}
    return [f"{heading}:", *(f"  {name:>16} = {value:.5g}{units[name]}" for name, value in start.items())]


def summary_lines(previews: list[BinPreview], *, file: str, layout: str, dt: float, n_frames: int,
                  start: dict[str, float] | None) -> list[str]:
    """The text summary: one line per bin, the verdict, the suggested selection, the data-driven
    start of :func:`suggested_start` (``start``) and the warnings."""
    nyquist = 1.0 / (2.0 * dt)
    lines = [f"{file}: {layout}, {len(previews)} bins, {n_frames} frames, dt = {dt:g} s "
             f"(Nyquist {nyquist:.4g} Hz)",
             f"{'key':>9} {'label':>5} {'q (1/A)':>9} {'phi (deg)':>9} {'contrast':>9} {'noise':>9} "
             f"{'SNR':>7} {'fringes (Hz)':>13}"]
    for b in previews:
        fringes = f"{b.fringes.peak_frequency:.4g}" if b.fringes.present else "none"
        if b.fringes.aliasing:
            fringes += " ALIAS?"
        lines.append(f"{b.key:>9} {b.label:>5} {b.q:>9.4g} {b.phi:>9.4g} {b.contrast:>9.3g} {b.noise:>9.3g} "
                     f"{b.snr:>7.3g} {fringes:>13}")
    with_fringes = sum(b.fringes.present for b in previews)
    verdict = "yes" if with_fringes else "no"
    lines.append(f"heterodyne: {verdict} (fringes in {with_fringes} of {len(previews)} bins; "
                 f"false-alarm rate {FALSE_ALARM:g} per bin)")
    suggestion = suggest_selection(previews)
    if suggestion.q is None:
        lines.append(f"suggested selection: none (no bin has contrast/noise >= {MIN_USABLE_SNR:g})")
    else:
        angles = ", ".join(f"{phi:g}" for phi in suggestion.phi)
        lines.append(f"suggested selection: q = {suggestion.q:g}, phi = [{angles}]")
    lines.extend(start_lines(previews, start))
    for b in previews:
        if b.fringes.aliasing:
            lines.append(f"warning: {b.key} (q = {b.q:g}, phi = {b.phi:g}): fringes at "
                         f"{b.fringes.peak_frequency:.4g} Hz, near the Nyquist frequency {nyquist:.4g} Hz; "
                         "they may alias between frames (the true frequency may be higher)")
    return lines
