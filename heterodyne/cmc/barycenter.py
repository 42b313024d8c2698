"""The Wasserstein barycenter of K full-width shard posteriors (docs/cmc.md; Srivastava, Li &
Dunson 2018; Minsker et al. 2017).

Each shard's likelihood is raised to n / n_k, so each shard posterior approximates the full-data
posterior, shifted by its own data's noise. Their 2-Wasserstein barycenter is the consensus. It is
taken in the sampler's whitened coordinates z (where the shard posteriors are closest to Gaussian
and the bounds are gone), with m_k, Σ_k the mean and covariance of shard k's draws:

    Gaussian barycenter N(m̄, S):  m̄ = (1/K) Σ_k m_k,   S = (1/K) Σ_k (S^½ Σ_k S^½)^½,
    solved by the fixed-point iteration S ← S^-½ [(1/K) Σ_k (S^½ Σ_k S^½)^½]² S^-½
    (Álvarez-Esteban et al. 2016), started at the mean of the Σ_k;

    the optimal transport from shard k onto it:  T_k(z) = m̄ + A_k (z − m_k),
    A_k = Σ_k^-½ (Σ_k^½ S Σ_k^½)^½ Σ_k^-½.

If the shard posteriors are one shape shifted and stretched (a location-scatter family), every
T_k carries shard k's draws exactly onto the barycenter, skew and tails included. The combined
draw (c, d) is T_k of shard k's draw (c, d) with k = (c + d) mod K, so every chain visits every
shard and the output keeps the (C, D, P) shape.
"""

from __future__ import annotations

import numpy as np

from heterodyne.cmc.combine import flat

TOLERANCE = 1e-12
"""The fixed-point iteration stops when S changes by less than this (relative, Frobenius)."""
MAX_ITERATIONS = 500
ROUND_OFF = 1e-15
"""Eigenvalues below this fraction of the largest are round-off; they are raised to it."""


def _power(matrix: np.ndarray, exponent: float) -> np.ndarray:
    """matrix^exponent of a symmetric positive-definite matrix (eigenvalues kept above round-off)."""
    eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2)
    eigenvalues = np.maximum(eigenvalues, ROUND_OFF * eigenvalues[-1])
    return (eigenvectors * eigenvalues ** exponent) @ eigenvectors.T


def gaussian_barycenter(means: list[np.ndarray], covariances: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(m̄, S) of the equal-weight Wasserstein barycenter of N(m_k, Σ_k)."""
    barycenter = sum(covariances) / len(covariances)
    for _ in range(MAX_ITERATIONS):
        root, inverse_root = _power(barycenter, 0.5), _power(barycenter, -0.5)
        middle = sum(_power(root @ c @ root, 0.5) for c in covariances) / len(covariances)
        updated = inverse_root @ middle @ middle @ inverse_root
        updated = (updated + updated.T) / 2
        change = np.linalg.norm(updated - barycenter) / np.linalg.norm(barycenter)
        barycenter = updated
        if change < TOLERANCE:
            break
    return sum(means) / len(means), barycenter


def transport_matrix(covariance: np.ndarray, target: np.ndarray) -> np.ndarray:
    """A of the optimal (linear) transport of N(·, ``covariance``) onto N(·, ``target``)."""
    root, inverse_root = _power(covariance, 0.5), _power(covariance, -0.5)
    return inverse_root @ _power(root @ target @ root, 0.5) @ inverse_root


def barycenter_draws(shard_draws: list[np.ndarray], covariances: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray,
                                                                                               np.ndarray]:
    """(combined (C, D, P) draws, m̄, S) of K shards' (C, D, P) draws with (regularised) covariances Σ_k."""
    means = [flat(d).mean(axis=0) for d in shard_draws]
    mean, barycenter = gaussian_barycenter(means, covariances)
    if len(shard_draws) == 1:
        return shard_draws[0], mean, barycenter
    n_chains, n_draws, _ = shard_draws[0].shape
    source = (np.arange(n_chains)[:, None] + np.arange(n_draws)[None, :]) % len(shard_draws)
    combined = np.empty_like(shard_draws[0])
    for k, (draws, m, c) in enumerate(zip(shard_draws, means, covariances, strict=True)):
        chosen = source == k
        combined[chosen] = mean + (draws[chosen] - m) @ transport_matrix(c, barycenter).T
    return combined, mean, barycenter
