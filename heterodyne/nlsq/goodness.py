"""Goodness of fit that tells systematic structure in the residuals from frame-correlated noise.

chi2_red cannot: on measured two-time data the noise of c2 is shared by every element of a frame's
row and column, and by nearby frames while the speckle has not decorrelated, so a correct fit
has chi2_red ≈ 2 or more while a fit in a wrong minimum on independent noise can have 1.06.
A wrong model leaves a residual that is the same along a lag diagonal at every age (the
dynamics varies slowly with age), while correlated noise changes over the frames' decorrelation
length. The check therefore averages the weighted residuals r_p = (y_p − model_p)/σ_p of the
fit's points p = (a, i, j), i < j, along bands of lag and judges every band mean against its own
frame-clustered scatter along the band.

**Bands.** For angle a and lag band k, the points with e_k ≤ j − i < e_{k+1}; the edges are the
union of ``LAG_EDGES`` log-spaced and ``LAG_EDGES`` evenly spaced lags in [1, N], so bands are
narrow at short lags, where the correlation decays, and at most (N − 1)/``LAG_EDGES`` wide at
long lags, where fringes of a wrong velocity would average out. S_b = Σ_{p∈b} r_p, mean
m_b = S_b/n_b, centred residuals e_p = r_p − m_{b(p)}.

**Blocks of frames.** Frame f belongs to block ⌊f/m⌋. The length m comes from the data as in
:mod:`heterodyne.nlsq.sandwich`. U_af sums, over the points of angle a that touch frame f, r_p
minus the mean of p's lag diagonal (any residual that depends on the lag alone, as a wrong
stationary model leaves, cancels); ρ(d) is their autocorrelation over frames, pooled over
angles; ℓ = the last lag before ρ(d) < ``DECORRELATED`` and m = 2ℓ, at least 1 and at most
N/``MIN_BLOCKS``. Independent noise gives m = 1 (every frame a block); speckle noise that
decorrelates over tens of frames gives m ≈ N/4.

**Variance of a band sum** (dyadic cluster-robust, as in
:mod:`heterodyne.nlsq.sandwich`): point p belongs to the blocks I_p = ⌊i_p/m⌋ and J_p = ⌊j_p/m⌋,
and points that share a block are correlated. With T_bB the sum of e_p over the points of band
b that belong to block B (once each) and Z_bIJ that over its points in blocks I < J,

    V_b = Σ_B T_bB² − Σ_{I<J} Z_bIJ²,

which counts every pair of points sharing a block once. V_b is floored at Σ_{p∈b} e_p², its value
for independent points (noise correlations between frames are positive; a smaller V_b is noise of
the estimate). The band's g_b segments (distinct blocks of its earlier frames i) are its
independent pieces along the age; with the usual few-cluster correction,

    t_b = S_b / √(V_b · g_b/(g_b − 1))   against Student's t with ν_b = g_b − 1 degrees of freedom.

Bands with ν_b < ``MIN_DOF`` (too short a stretch of frames) or V_b = 0 (no noise) are not tested.

**Statistic.** Each t_b becomes the Gaussian z with the same two-sided tail probability,
z_b = Φ⁻¹(1 − p_b/2), p_b = 2 P(T_ν > |t_b|); the statistic is max_b z_b and it fails above
the Bonferroni threshold Φ⁻¹(1 − α/(2K)) for K tested bands, α = ``FALSE_ALARM``: whatever the
correlation between bands, a correct model fails with probability at most about α. The fit
absorbs part of the noise, so a correct fit's band means are slightly smaller than noise: that
only makes false alarms rarer. The price of honesty is power on strongly correlated noise: with
m = N/4 a band has at most 3 degrees of freedom, and only structure that is large against the
noise and the same over the whole run is reported. A residual that drifts with the age (a wrong
exponent of a rate) also lengthens ρ(d), and so m, which weakens the check on such structure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import special, stats

FALSE_ALARM = 1e-4
"""α: the probability, at most, that a correct model fails the check."""
LAG_EDGES = 10
"""Log-spaced and evenly spaced lag edges each (their union makes the bands)."""
DECORRELATED = 0.1
"""ρ(d) below this: frames d apart count as uncorrelated."""
MIN_BLOCKS = 4
"""Blocks of frames at least (the block length is at most N / MIN_BLOCKS)."""
MIN_DOF = 2
"""Degrees of freedom (segments − 1) a band needs to be tested."""


@dataclass(frozen=True)
class ResidualStructure:
    """The outcome of :func:`residual_structure`.

    ``statistic``: max over tested bands of the Gaussian-equivalent z of the band mean;
    ``threshold``: the Bonferroni threshold it must not exceed; ``n_tests``: bands tested;
    ``block_frames``: m, frames per block; ``worst_*``: the band with the largest z (angle index,
    lags [lo, hi] in frames, mean weighted residual, t and its degrees of freedom); -1 and 0 when
    no band could be tested.
    """

    statistic: float
    threshold: float
    passed: bool
    n_tests: int
    block_frames: int
    false_alarm: float
    worst_angle: int
    worst_lags: tuple[int, int]
    worst_mean: float
    worst_t: float
    worst_dof: int

    def as_dict(self) -> dict:
        """JSON-ready fields (the lag range as a list)."""
        plain = asdict(self)
        plain["worst_lags"] = list(self.worst_lags)
        return plain

    def message(self) -> str:
        """One line naming the check and its worst band."""
        verdict = "passed" if self.passed else "FAILED"
        if self.n_tests == 0:
            return "residual structure check: no lag band long enough to test"
        return (
            f"residual structure check {verdict}: mean weighted residual {self.worst_mean:.3g} over lags "
            f"{self.worst_lags[0]}-{self.worst_lags[1]} frames of angle {self.worst_angle} "
            f"(t = {self.worst_t:.3g}, {self.worst_dof} dof, z-equivalent {self.statistic:.2f} vs threshold "
            f"{self.threshold:.2f} for {self.n_tests} bands at false-alarm rate {self.false_alarm:g}, frame blocks "
            f"of {self.block_frames})"
            + ("" if self.passed else ": systematic structure, the fit may be in a wrong minimum")
        )


def lag_band_edges(n_frames: int) -> np.ndarray:
    """Edges e_0 = 1 < e_1 < … = N of the lag bands: the union of LAG_EDGES + 1 log-spaced and as many
    evenly spaced integer lags in [1, N]."""
    log_spaced = np.geomspace(1, n_frames, LAG_EDGES + 1)
    even = np.linspace(1, n_frames, LAG_EDGES + 1)
    return np.unique(np.round(np.concatenate([log_spaced, even])).astype(np.int64))


def frame_autocorrelation(frame_sums: np.ndarray) -> np.ndarray:
    """ρ(d), d = 0 … N−1, of the (A, N) per-frame sums over frames, each angle centred, pooled over
    angles (by FFT, zero-padded: no wrap-around)."""
    centred = frame_sums - frame_sums.mean(axis=1, keepdims=True)
    n_frames = centred.shape[1]
    spectrum = np.fft.rfft(centred, n=2 * n_frames, axis=1)
    covariance = np.fft.irfft(np.abs(spectrum) ** 2, n=2 * n_frames, axis=1)[:, :n_frames].sum(axis=0)
    if covariance[0] <= 0.0:
        return np.eye(1, n_frames)[0]
    return covariance / covariance[0]


def block_length(rho: np.ndarray) -> int:
    """m = 2ℓ, ℓ the last lag before ρ(d) < DECORRELATED, clipped to [1, N / MIN_BLOCKS]."""
    n_frames = rho.size
    below = np.flatnonzero(rho[1:] < DECORRELATED)
    last_correlated = int(below[0]) if below.size else n_frames
    return int(np.clip(2 * last_correlated, 1, max(1, n_frames // MIN_BLOCKS)))


def lag_centred_frame_sums(
    angle: np.ndarray, first: np.ndarray, second: np.ndarray, r: np.ndarray, n_angles: int, n_frames: int
) -> np.ndarray:
    """(A, N) U_af: the sums over the points of angle a that touch frame f of r_p minus the mean of
    its lag diagonal (angle a, lag j − i)."""
    diagonal = angle * n_frames + (second - first)
    counts = np.bincount(diagonal, minlength=n_angles * n_frames)
    means = np.bincount(diagonal, r, minlength=n_angles * n_frames) / np.maximum(counts, 1)
    centred = r - means[diagonal]
    sums = np.bincount(angle * n_frames + first, centred, minlength=n_angles * n_frames) + np.bincount(
        angle * n_frames + second, centred, minlength=n_angles * n_frames
    )
    return sums.reshape(n_angles, n_frames)


def _group_sum_of_squares(keys: np.ndarray, values: np.ndarray, owner: np.ndarray, n_owners: int) -> np.ndarray:
    """Σ over the groups of equal ``keys`` of (Σ values)², added up per ``owner`` of the group."""
    unique, inverse = np.unique(keys, return_inverse=True)
    group_sums = np.bincount(inverse, values, minlength=unique.size)
    group_owner = np.zeros(unique.size, dtype=np.int64)
    group_owner[inverse] = owner
    return np.bincount(group_owner, group_sums**2, minlength=n_owners)


def dyadic_variance(
    band: np.ndarray, block_i: np.ndarray, block_j: np.ndarray, values: np.ndarray, n_bands: int, n_blocks: int
) -> np.ndarray:
    """Per band b: Σ_B T_bB² − Σ_{I<J} Z_bIJ² = Σ over ordered pairs of its points that share a block of
    the products of ``values`` (each point with itself once); blocks ``block_i`` ≤ ``block_j``."""
    between = np.where(block_i == block_j, 0.0, values)
    block_sums = np.bincount(band * n_blocks + block_i, values, minlength=n_bands * n_blocks) + np.bincount(
        band * n_blocks + block_j, between, minlength=n_bands * n_blocks
    )
    pair_keys = (band * n_blocks + block_i) * n_blocks + block_j
    return (block_sums**2).reshape(n_bands, n_blocks).sum(axis=1) - _group_sum_of_squares(
        pair_keys, between, band, n_bands
    )


def residual_structure(
    angle_index: np.ndarray, i: np.ndarray, j: np.ndarray, residuals: np.ndarray, n_angles: int, n_frames: int
) -> ResidualStructure:
    """Test the weighted residuals of a fit for structure along lag bands (module docstring).

    ``angle_index``, ``i`` < ``j`` (frame indices 0 … N−1) and ``residuals`` (y − model)/σ give the
    fit's points, all of the strict upper triangle or a subsample of it.
    """
    angle = np.asarray(angle_index, dtype=np.int64)
    first = np.asarray(i, dtype=np.int64)
    second = np.asarray(j, dtype=np.int64)
    r = np.asarray(residuals, dtype=np.float64)
    edges = lag_band_edges(n_frames)
    n_lag_bands = edges.size - 1
    band = angle * n_lag_bands + np.searchsorted(edges, second - first, side="right") - 1
    n_bands = n_angles * n_lag_bands
    counts = np.bincount(band, minlength=n_bands)
    sums = np.bincount(band, r, minlength=n_bands)
    means = np.divide(sums, counts, out=np.zeros(n_bands), where=counts > 0)
    centred = r - means[band]

    m = block_length(frame_autocorrelation(lag_centred_frame_sums(angle, first, second, r, n_angles, n_frames)))
    n_blocks = -(-n_frames // m)
    block_i, block_j = first // m, second // m
    variance = np.maximum(
        dyadic_variance(band, block_i, block_j, centred, n_bands, n_blocks),
        np.bincount(band, centred**2, minlength=n_bands),
    )
    segments = (np.bincount(band * n_blocks + block_i, minlength=n_bands * n_blocks) > 0).reshape(
        n_bands, n_blocks
    ).sum(axis=1)
    dof = segments - 1
    tested = np.flatnonzero((dof >= MIN_DOF) & (variance > 0.0))
    threshold = float(-special.ndtri(FALSE_ALARM / (2 * max(tested.size, 1))))
    if tested.size == 0:
        return ResidualStructure(0.0, threshold, True, 0, m, FALSE_ALARM, -1, (0, 0), 0.0, 0.0, 0)
    t = sums[tested] / np.sqrt(variance[tested] * segments[tested] / dof[tested])
    z = -special.ndtri_exp(stats.t.logsf(np.abs(t), dof[tested]))
    worst = int(np.argmax(z))
    band_index = int(tested[worst])
    lag_band = band_index % n_lag_bands
    return ResidualStructure(
        statistic=float(z[worst]),
        threshold=threshold,
        passed=bool(z[worst] <= threshold),
        n_tests=int(tested.size),
        block_frames=m,
        false_alarm=FALSE_ALARM,
        worst_angle=band_index // n_lag_bands,
        worst_lags=(int(edges[lag_band]), int(edges[lag_band + 1]) - 1),
        worst_mean=float(means[band_index]),
        worst_t=float(t[worst]),
        worst_dof=int(dof[tested][worst]),
    )
