"""Scott's consensus average of shard draws and its Gaussian cross-check, the Gaussian product
(docs/cmc.md; Scott et al. 2016). W_k is the inverse of shard k's regularised covariance
(:mod:`heterodyne.cmc.shard_covariance`).

Consensus weighted average: the s-th combined draw is (Σ_k W_k)⁻¹ Σ_k W_k θ_k^(s). Exact when the
sub-posteriors are Gaussian.
Gaussian product (the cross-check): covariance (Σ_k W_k)⁻¹ and mean (Σ_k W_k)⁻¹ Σ_k W_k θ̄_k.
"""

from __future__ import annotations

import numpy as np

from heterodyne.cmc.shard_covariance import flat


def consensus_draws(shard_draws: list[np.ndarray], covariances: list[np.ndarray]) -> np.ndarray:
    """Scott's consensus weighted average of K shards' (C, D, P) draws, draw by draw: (C, D, P)."""
    weights = [np.linalg.inv(c) for c in covariances]
    weighted = sum(np.einsum("pq,cdq->cdp", w, d) for w, d in zip(weights, shard_draws, strict=True))
    return np.linalg.solve(sum(weights), flat(weighted).T).T.reshape(weighted.shape)


def gaussian_product(shard_draws: list[np.ndarray], covariances: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of the product of Gaussian approximations to the shard posteriors."""
    weights = [np.linalg.inv(c) for c in covariances]
    covariance = np.linalg.inv(sum(weights))
    means = [flat(d).mean(axis=0) for d in shard_draws]
    return covariance @ sum(w @ m for w, m in zip(weights, means, strict=True)), covariance
