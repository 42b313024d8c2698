"""Speckle-level two-time data: pixel fields, photon counts and the APS correlator's c2.

The physics is that of :mod:`heterodyne.model` (f_s, f_r are field amplitudes, intensity ∝ f²).
Per pixel p of a bin at (q, φ), and per speckle mode m = 1 … M, the field at time t is

    E_pm(t) = f_r(t) R_pm(t) + f_s(t) S_pm(t) exp(iΦ(t)),   Φ(t) = q cos(φ + φ0) ∫ v dt′

(∫ v dt′ the displacement of :mod:`heterodyne.simulation.velocity_jump` when the velocity jumps)

with R, S independent circular complex Gaussian Gauss–Markov processes of unit variance, stepped
between consecutive simulated raw frames by

    X_{r+1} = ρ_r X_r + √(1 − ρ_r²) ξ_r,   ρ_r = exp(−½ q² ∫_{t_r}^{t_{r+1}} J dt),   ξ_r ~ CN(0, 1)

(J_ref for R, J_sample for S), so that ⟨X(t_i) X*(t_j)⟩ = exp(−½ q² ∫_{t_i}^{t_j} J). The integrals
are the model's own cumulative trapezoids on the simulated raw-frame times. The pixel intensity
I_p = (1/M) Σ_m |E_pm|² then has ⟨I_p⟩ = f_r² + f_s² and

    ⟨I_p(t_i) I_p(t_j)⟩ / (⟨I_p(t_i)⟩⟨I_p(t_j)⟩) = 1 + (1/M) · (R + S + X) / f²

which is the model's c2 with contrast 1/M and offset 1. Photon counts are Poisson with mean
λ I_p(t) / mean_t(f_r² + f_s²), so ``counts_per_pixel`` = λ is the mean count per pixel and raw
frame over the run.

Frames follow the correlator's clock: raw frame n (0-based) is at (n + stride · avg) · frame_time,
stored frame k (1-based) averages the raw frames b + ((k − 1) · avg + a) · stride, a = 0 … avg − 1,
of a run begun at raw frame b, and sits at t_k = b · frame_time + k · dt, the time of its first
raw frame. The raw frames skipped by the stride are not simulated: the processes are stepped
directly from one used raw frame to the next.

The correlator's c2 of a bin (boost_corr's two-time with ``normalize_frame``): each pixel's count
is divided by the mean count of its static bin in the same stored frame, then

    c2_ij = n_pix Σ_p I_pi I_pj / (Σ_p I_pi · Σ_p I_pj).

Each dynamic bin is split into :data:`STATIC_BINS_PER_BIN` static bins of equal pixel counts.

Noise shared between bins (``shared_pixels`` > 0): the first ``shared_pixels`` pixels of every bin
carry the same reference and sample processes R_pm, S_pm as those of the first bin at the same q
(bins at one q decorrelate at one rate), as if the bins shared those pixels' speckle; each bin
still applies its own phase Φ(t) and draws its own photon counts. Every bin's pixels keep their
distribution, so its mean c2 is unchanged, but the frame effects of the c2 of bins at one q are
then partly common: noise shared between angles.

Random numbers come from one ``numpy.random.Generator(PCG64(seed))`` in a fixed order (initial
fields, then per raw frame: counts, field steps), all bins at once, so the same inputs give
byte-identical output (sharing overwrites draws and takes none, so ``shared_pixels`` = 0 gives the
output of the simulator without it). Work is vectorised over bins × pixels × modes; the loop runs
over raw frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heterodyne.errors import HeterodyneError
from heterodyne.simulation.velocity_jump import VelocityJump

STATIC_BINS_PER_BIN = 4
"""Static bins per dynamic bin (2 in q × 2 in φ): the groups of pixels whose mean normalises a frame."""


@dataclass(frozen=True)
class SpeckleFrames:
    """Photon counts of the processed bins: ``counts`` (K, N, P) float64, the mean count per raw
    frame of each pixel in each stored frame (K bins, N stored frames, P pixels per bin)."""

    counts: np.ndarray

    def static_means(self) -> np.ndarray:
        """(K, N, STATIC_BINS_PER_BIN): mean count of each static bin in each stored frame."""
        n_bins, n_frames, n_pixels = self.counts.shape
        groups = self.counts.reshape(n_bins, n_frames, STATIC_BINS_PER_BIN, n_pixels // STATIC_BINS_PER_BIN)
        return groups.mean(axis=3)


def raw_frame_times(n_frames: int, frame_time: float, stride: int, average: int, begin: int) -> np.ndarray:
    """Times (N · avg,) of the raw frames used, in stored-frame order (module docstring's clock)."""
    used = begin + np.arange(n_frames * average) * stride
    return (used + stride * average) * frame_time


def _frame_quantities(theta: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, ...]:
    """The model's cumulative integrals of J_ref, J_sample, v and its f_s at ``times`` (numpy)."""
    from heterodyne.jaxconfig import jnp
    from heterodyne.model import frame_terms

    return tuple(np.asarray(term) for term in frame_terms(jnp.asarray(theta), jnp.asarray(times)))


def _photon_rate(counts_per_pixel: float, f_s: np.ndarray) -> float:
    """λ / mean_t(f_r² + f_s²): photons per unit intensity, so the run's mean count per pixel is λ."""
    return counts_per_pixel / np.mean((1.0 - f_s) ** 2 + f_s**2)


def expected_counts(
    theta: np.ndarray, *, n_frames: int, frame_time: float, stride: int, average: int, begin: int,
    counts_per_pixel: float,
) -> np.ndarray:
    """(N,) the mean count per pixel and raw frame of each stored frame: rate · (f_r² + f_s²),
    averaged over the stored frame's raw frames."""
    f_s = _frame_quantities(theta, raw_frame_times(n_frames, frame_time, stride, average, begin))[3]
    intensity = (1.0 - f_s) ** 2 + f_s**2
    return _photon_rate(counts_per_pixel, f_s) * intensity.reshape(n_frames, average).mean(axis=1)


def _complex_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Circular complex Gaussian of unit variance: (x + iy)/√2."""
    pair = rng.standard_normal((2, *shape))
    return (pair[0] + 1j * pair[1]) * np.sqrt(0.5)


def simulate_counts(
    theta: np.ndarray,
    q: np.ndarray,
    phi: np.ndarray,
    *,
    n_frames: int,
    frame_time: float,
    stride: int,
    average: int,
    begin: int,
    pixels: int,
    modes: int,
    counts_per_pixel: float,
    seed: int,
    shared_pixels: int = 0,
    velocity_jump: VelocityJump | None = None,
) -> SpeckleFrames:
    """Photon counts of K bins at (q, φ) (Å⁻¹, degrees) for the 14 physics parameters ``theta``;
    the first ``shared_pixels`` pixels of every bin share the fields of the first bin at its q
    (module docstring); ``velocity_jump`` replaces ∫ v dt′ in Φ by the displacement of a velocity
    that jumps (:mod:`heterodyne.simulation.velocity_jump`)."""
    times = raw_frame_times(n_frames, frame_time, stride, average, begin)
    c_ref, c_sample, c_velocity, f_s = _frame_quantities(theta, times)
    if velocity_jump is not None:
        c_velocity = velocity_jump.displacement(times, c_velocity)
    f_r = 1.0 - f_s
    q = np.asarray(q, dtype=np.float64)[:, None]
    rho_ref = np.exp(-0.5 * q**2 * np.diff(c_ref))
    rho_sample = np.exp(-0.5 * q**2 * np.diff(c_sample))
    phase = np.exp(1j * q * np.cos(np.deg2rad(np.asarray(phi, dtype=np.float64)[:, None] + theta[13])) * c_velocity)
    rate = _photon_rate(counts_per_pixel, f_s)

    rng = np.random.Generator(np.random.PCG64(seed))
    shape = (q.shape[0], pixels, modes)
    source = np.array([np.flatnonzero(q[:, 0] == value)[0] for value in q[:, 0]])   # first bin at each bin's q

    def share(state: np.ndarray) -> np.ndarray:
        """``state`` (K, P, M) with the first ``shared_pixels`` pixels of every bin set to those of its source bin."""
        if shared_pixels:
            state[:, :shared_pixels] = state[source, :shared_pixels]
        return state

    reference, sample = share(_complex_normal(rng, shape)), share(_complex_normal(rng, shape))
    counts = np.zeros((q.shape[0], n_frames, pixels))
    for raw in range(times.size):
        field = f_r[raw] * reference + (f_s[raw] * phase[:, raw])[:, None, None] * sample
        intensity = np.mean(field.real**2 + field.imag**2, axis=2)
        counts[:, raw // average] += rng.poisson(rate * intensity)
        if raw + 1 < times.size:
            reference = share(_step(rng, reference, rho_ref[:, raw]))
            sample = share(_step(rng, sample, rho_sample[:, raw]))
    return SpeckleFrames(counts / average)


def _step(rng: np.random.Generator, state: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """One Gauss–Markov step X ← ρ X + √(1 − ρ²) ξ, ρ per bin."""
    rho = rho[:, None, None]
    return rho * state + np.sqrt(1.0 - rho**2) * _complex_normal(rng, state.shape)


def correlator_c2(frames: SpeckleFrames) -> np.ndarray:
    """(K, N, N) float32 upper triangles (diagonal included) of the correlator's c2 of each bin."""
    counts = frames.counts
    n_bins, n_frames, n_pixels = counts.shape
    means = frames.static_means()
    empty = np.argwhere(means == 0.0)
    if empty.size:
        bin_index, frame, _ = empty[0]
        raise HeterodyneError(
            f"speckle simulation: a static bin of bin {bin_index + 1} has no photon in stored frame {frame + 1}; "
            "raise the pixels per bin or the counts per pixel"
        )
    normalised = counts / np.repeat(means, n_pixels // STATIC_BINS_PER_BIN, axis=2)
    stored = np.empty((n_bins, n_frames, n_frames), dtype=np.float32)
    for index, intensity in enumerate(normalised):
        sums = intensity.sum(axis=1)
        c2 = n_pixels * (intensity @ intensity.T) / np.outer(sums, sums)
        stored[index] = np.triu(c2).astype(np.float32)
    return stored
