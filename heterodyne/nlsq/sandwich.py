"""The frame-clustered ("dyadic") sandwich: a covariance of the fit that holds when the noise of
c2 is shared by the elements of a common frame (method and measurements: docs/uncertainty.md).

Every frame's intensities enter a whole row and column of a measured c2, so the noise of points
that share a frame is correlated. With r_p the weighted residuals, J_p their gradient, H = JᵀJ and
the scores s_p = J_pᵀ r_p, the covariance is V = H⁻¹ M H⁻¹ with the dyadic cluster-robust meat
(Aronow, Samii & Assenova 2015)

    M = Σ_{p, p′ share a frame} s_p s_p′ᵀ
      = Σ_a Σ_f S_af S_afᵀ − Σ_p s_p s_pᵀ,      S_af = Σ_{p ∋ (a, f)} s_p,

where a point (a, i, j) belongs to the clusters (a, i) and (a, j), so Σ_f S_af S_afᵀ counts every
pair of distinct points sharing a frame once and every point with itself twice. Angles do not
share noise (their bins have distinct pixels). O(A N n²) from per-frame sums, no P × P work.
"""

from __future__ import annotations

import numpy as np

from heterodyne.nlsq.problem import FrameSums

METHOD = "frame-clustered (dyadic) sandwich H^-1 M H^-1; clusters: frames of each angle"


def frame_autocorrelation(residual_sums: np.ndarray) -> float:
    """Lag-1 autocorrelation over frames of the (A, N) per-frame residual sums, pooled over angles:
    how much the noise of neighbouring frames is alike (0 for independent frame effects)."""
    centred = residual_sums - residual_sums.mean(axis=1, keepdims=True)
    variance = float(np.sum(centred * centred))
    if variance == 0.0:
        return 0.0
    return float(np.sum(centred[:, 1:] * centred[:, :-1]) / variance)


def dyadic_meat(scores: np.ndarray, self_outer: np.ndarray) -> np.ndarray:
    """M = Σ_a Σ_f S_af S_afᵀ − Σ_p s_p s_pᵀ for (A, N, n) per-frame ``scores``."""
    return np.einsum("afi,afj->ij", scores, scores) - self_outer


def frame_clustered_meat(sums: FrameSums) -> tuple[np.ndarray, dict]:
    """(M, description for the result) from the per-frame sums of one pass at the optimum."""
    description = {
        "method": METHOD,
        "n_clusters": int(sums.scores.shape[0] * sums.scores.shape[1]),
        "frame_autocorrelation": frame_autocorrelation(sums.residuals),
    }
    return dyadic_meat(sums.scores, sums.self_outer), description
