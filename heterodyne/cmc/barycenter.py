"""The consensus of K full-width shard posteriors (docs/cmc.md, section 4; Srivastava, Li & Dunson
2018; Minsker et al. 2017).

Each shard's likelihood is raised to n / n_k, so shard k's posterior is the full-data posterior
p tilted by its own data's noise: p_k ∝ p · e^{ε_k} with ε_k = λ_k ℓ_k − ℓ and Σ_k ε_k = 0
exactly (ℓ the full log likelihood). Their means scatter by about √(K − 1) full-data sds. On
a nonlinear model the shards are translates of one law only in curved coordinates η(z); seen
in the sampler's coordinates z, their spread, shape and orientation change with where the
shard sits. With m_k and Σ_k the mean and covariance of shard k's draws in z, and m̄ and Σ̄ the
averages of the m_k and of the Σ_k:

    location:  m* = m̄ − ¼ (1/K) Σ_k (Σ_k − Σ̄) Σ̄⁻¹ (m_k − m̄),

    the second-order correction of the average: shards N(η_k, I) mapped by a smooth z = φ(η)
    have means φ(η_k) + ½ φ''[I], so m̄ is off by ½ φ''[C] (C the scatter of the η_k, growing
    as K − 1), while Σ_k − Σ̄ ≈ (∂J + ∂Jᵀ)[η_k − η̄] reveals φ'' along every shard's offset;
    the formula is exact to second order when φ is a gradient map in the frame where the
    shards are isotropic (any smooth one-dimensional φ, and so one per coordinate);

    spread:  S = Σ̄^½ B Σ̄^½,  B the Wasserstein barycenter of the Σ̄^-½ Σ_k Σ̄^-½,

    B solves B = (1/K) Σ_k (B^½ C_k B^½)^½, found by the fixed-point iteration
    B ← B^-½ [(1/K) Σ_k (B^½ C_k B^½)^½]² B^-½ (Álvarez-Esteban et al. 2016) started at the mean
    of the C_k. Taken in the frame whitened by Σ̄ (where the shards are nearly isotropic), the
    combination is affine-equivariant: it does not depend on the sampler's whitening. Taken in
    z, where the shard covariances can be elongated and turned against each other, the
    barycenter came out narrower than every shard (docs/cmc.md, section 4);

    transport of shard k:  T_k(z) = m* + A_k (z − m_k),  A_k = Σ̄^½ Ã_k Σ̄^-½,
    Ã_k = C_k^-½ (C_k^½ B C_k^½)^½ C_k^-½  (the optimal linear map of C_k onto B),

so A_k Σ_k A_kᵀ = S. If the shard posteriors are one shape shifted and stretched (a
location-scatter family), every T_k carries shard k's draws exactly onto it, skew and tails
included. The combined draw (c, d) is T_k of shard k's draw (c, d) with k = (c + d) mod K, so
every chain visits every shard and the output keeps the (C, D, P) shape.
"""

from __future__ import annotations

import numpy as np

from heterodyne.cmc.shard_covariance import flat
from heterodyne.numerics import ROUND_OFF_RATIO

TOLERANCE = 1e-12
"""The fixed-point iteration stops when S changes by less than this (relative, Frobenius)."""
MAX_ITERATIONS = 500
LOCATION_CORRECTION = 0.25
"""The weight of the shards' covariance–location covariation in m* (module docstring)."""


def mean_of(arrays: list[np.ndarray]) -> np.ndarray:
    """(1/K) Σ_k of K arrays of one shape."""
    return sum(arrays, np.zeros_like(arrays[0])) / len(arrays)


def symmetric_power(matrix: np.ndarray, exponent: float, floor: float = ROUND_OFF_RATIO) -> np.ndarray:
    """matrix^exponent of a symmetric positive (semi-)definite matrix, its eigenvalues raised to
    ``floor`` × the largest."""
    eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2)
    eigenvalues = np.maximum(eigenvalues, floor * eigenvalues[-1])
    return (eigenvectors * eigenvalues ** exponent) @ eigenvectors.T


def gaussian_barycenter(means: list[np.ndarray], covariances: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(m̄, S) of the equal-weight Wasserstein barycenter of N(m_k, Σ_k)."""
    barycenter = mean_of(covariances)
    for _ in range(MAX_ITERATIONS):
        root, inverse_root = symmetric_power(barycenter, 0.5), symmetric_power(barycenter, -0.5)
        middle = mean_of([symmetric_power(root @ c @ root, 0.5) for c in covariances])
        updated = inverse_root @ middle @ middle @ inverse_root
        updated = (updated + updated.T) / 2
        change = np.linalg.norm(updated - barycenter) / np.linalg.norm(barycenter)
        barycenter = updated
        if change < TOLERANCE:
            break
    return mean_of(means), barycenter


def transport_matrix(covariance: np.ndarray, target: np.ndarray) -> np.ndarray:
    """A of the optimal (linear) transport of N(·, ``covariance``) onto N(·, ``target``)."""
    root, inverse_root = symmetric_power(covariance, 0.5), symmetric_power(covariance, -0.5)
    return inverse_root @ symmetric_power(root @ target @ root, 0.5) @ inverse_root


def consensus_location(means: list[np.ndarray], covariances: list[np.ndarray]) -> np.ndarray:
    """m* = m̄ − ¼ (1/K) Σ_k (Σ_k − Σ̄) Σ̄⁻¹ (m_k − m̄) of the shards' means and covariances."""
    mean, average = mean_of(means), mean_of(covariances)
    covariation = mean_of([(c - average) @ np.linalg.solve(average, m - mean)
                           for m, c in zip(means, covariances, strict=True)])
    return mean - LOCATION_CORRECTION * covariation


def consensus_transports(covariances: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """(S, [A_k]): the barycenter spread taken in the frame whitened by Σ̄, and each shard's linear
    transport onto it (A_k Σ_k A_kᵀ = S)."""
    average = mean_of(covariances)
    root, inverse_root = symmetric_power(average, 0.5), symmetric_power(average, -0.5)
    whitened = [inverse_root @ c @ inverse_root for c in covariances]
    _, spread = gaussian_barycenter([np.zeros(len(average))] * len(whitened), whitened)
    transports = [root @ transport_matrix(c, spread) @ inverse_root for c in whitened]
    target = root @ spread @ root
    return (target + target.T) / 2, transports


def barycenter_draws(shard_draws: list[np.ndarray], covariances: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray,
                                                                                               np.ndarray]:
    """(combined (C, D, P) draws, m*, S) of K shards' (C, D, P) draws with (regularised) covariances Σ_k."""
    means = [flat(d).mean(axis=0) for d in shard_draws]
    if len(shard_draws) == 1:
        return shard_draws[0], means[0], covariances[0]
    location = consensus_location(means, covariances)
    spread, transports = consensus_transports(covariances)
    n_chains, n_draws, _ = shard_draws[0].shape
    source = (np.arange(n_chains)[:, None] + np.arange(n_draws)[None, :]) % len(shard_draws)
    combined = np.empty_like(shard_draws[0])
    for k, (draws, m, transport) in enumerate(zip(shard_draws, means, transports, strict=True)):
        chosen = source == k
        combined[chosen] = location + (draws[chosen] - m) @ transport.T
    return combined, location, spread
