"""Open-faced sandwich adjustment of posterior draws (Shaby 2014; Ribatet, Cooley & Davison 2012).

The CMC likelihood treats every point's noise as independent, so its posterior has the
model-based covariance Σ_model = H⁻¹ (the likelihood's curvature) where the estimate really
scatters with the frame-clustered sandwich covariance Σ_honest (:mod:`heterodyne.nlsq.sandwich`).
The adjusted draws are

    θ_adj = θ̄ + Ω (θ − θ̄),      Ω = L_honest L_model⁻¹,

with θ̄ the mean of the draws and L the lower Cholesky factors, so Ω Σ_model Ωᵀ = Σ_honest
exactly. It is applied to the combined draws, so it holds whatever the sharding. Parameters
without an honest covariance (at a bound, degenerate) keep their draws (Ω is the identity there).

Σ_model comes from the NLSQ result: χ²_red⁻¹ times its independent-noise covariance, scaled by
n_NLSQ / n_CMC when the fit used a subset of the points (H grows with the number of points).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EIGENVALUE_FLOOR = 1e-12
METHOD = "open-faced sandwich (Shaby 2014): theta_mean + L_honest L_model^-1 (theta - theta_mean)"


@dataclass(frozen=True)
class Target:
    """Σ_model and Σ_honest (P, P) of the sampled parameters; NaN rows where not available."""

    model: np.ndarray
    honest: np.ndarray


def target_from_nlsq(nlsq_arrays, n_points: int) -> Target:
    """The target of a CMC run over ``n_points`` points, from the arrays of its nlsq.npz."""
    chi2_reduced = float(nlsq_arrays["chi2_reduced"])
    scale = float(nlsq_arrays["n_points"]) / n_points
    model = np.asarray(nlsq_arrays["covariance_independent"], float) * scale / chi2_reduced
    return Target(model=model, honest=np.asarray(nlsq_arrays["covariance"], float))


def positive_definite(covariance: np.ndarray) -> np.ndarray:
    """``covariance`` with eigenvalues below ``EIGENVALUE_FLOOR`` × the largest raised to it
    (a sandwich estimate is positive semi-definite only up to rounding and sampling)."""
    eigenvalues, eigenvectors = np.linalg.eigh((covariance + covariance.T) / 2)
    eigenvalues = np.maximum(eigenvalues, EIGENVALUE_FLOOR * eigenvalues[-1])
    return (eigenvectors * eigenvalues) @ eigenvectors.T


def adjustment_matrix(target: Target) -> tuple[np.ndarray, np.ndarray]:
    """(Ω, adjusted mask): Ω = L_honest L_model⁻¹ on the parameters both covariances have."""
    size = target.model.shape[0]
    known = np.isfinite(np.diag(target.model)) & np.isfinite(np.diag(target.honest))
    known &= (np.diag(target.model) > 0) & (np.diag(target.honest) > 0)
    omega = np.eye(size)
    if known.any():
        block = np.ix_(known, known)
        model_factor = np.linalg.cholesky(positive_definite(target.model[block]))
        honest_factor = np.linalg.cholesky(positive_definite(target.honest[block]))
        omega[block] = np.linalg.solve(model_factor.T, honest_factor.T).T
    return omega, known


def adjust(draws: np.ndarray, target: Target) -> tuple[np.ndarray, dict]:
    """(adjusted draws of the same shape as the (..., P) ``draws``, description for the result)."""
    omega, adjusted = adjustment_matrix(target)
    flat = draws.reshape(-1, draws.shape[-1])
    mean = flat.mean(axis=0)
    result = mean + (flat - mean) @ omega.T
    factor = np.ones(draws.shape[-1])
    factor[adjusted] = np.sqrt(np.diag(target.honest)[adjusted] / np.diag(target.model)[adjusted])
    description = {"method": METHOD, "adjusted": adjusted.tolist(), "factor": factor.tolist()}
    return result.reshape(draws.shape), description
