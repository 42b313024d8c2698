"""Noise level of a c2 matrix, estimated from the data itself.

Along a line of constant lag the signal changes slowly with age while the noise is independent
from point to point, so d = c2[i, j] − c2[i+1, j+1] has variance ≈ 2σ². A robust scale of d,
σ = 1.4826 · MAD(d) / √2, estimates σ without a model; the median removes any slow drift.
"""

from __future__ import annotations

import numpy as np

MAD_TO_SIGMA = 1.4826
MIN_DIFFERENCES_PER_LAG = 20


def _robust_sigma(differences: np.ndarray) -> float:
    deviation = np.abs(differences - np.median(differences))
    return float(MAD_TO_SIGMA * np.median(deviation) / np.sqrt(2.0))


def lag_differences(c2: np.ndarray, lag: int) -> np.ndarray:
    """All c2[a, i, i+lag] − c2[a, i+1, i+1+lag] of an (A, N, N) stack, flattened."""
    diagonals = np.diagonal(c2, offset=lag, axis1=1, axis2=2)
    return np.diff(diagonals, axis=1).ravel()


def _all_lag_differences(c2: np.ndarray) -> list[np.ndarray]:
    """lag_differences for lag = 1 … N−2 (index k holds lag k + 1)."""
    return [lag_differences(c2, lag) for lag in range(1, c2.shape[1] - 1)]


def estimate_sigma(c2: np.ndarray) -> float:
    """One σ for the whole strict upper triangle of every angle (lags ≥ 1 pooled)."""
    return _robust_sigma(np.concatenate(_all_lag_differences(c2)))


def estimate_sigma_per_lag(c2: np.ndarray) -> np.ndarray:
    """σ(lag) for lag = 0 … N−1 (index = lag); lags with too few differences get the pooled σ."""
    per_lag = _all_lag_differences(c2)
    sigma = np.full(c2.shape[1], _robust_sigma(np.concatenate(per_lag)))
    for lag, differences in enumerate(per_lag, start=1):
        if differences.size >= MIN_DIFFERENCES_PER_LAG:
            sigma[lag] = _robust_sigma(differences)
    return sigma
