"""Combining the shards' draws into one posterior (spec/cmc.md §4; Scott et al. 2016).

Consensus weighted average: with W_k the inverse sample covariance of shard k's draws, the s-th
combined draw is (Σ_k W_k)⁻¹ Σ_k W_k θ_k^(s). Exact when the sub-posteriors are Gaussian.
Gaussian product (the cross-check): covariance (Σ_k W_k)⁻¹ and mean (Σ_k W_k)⁻¹ Σ_k W_k θ̄_k.
"""

from __future__ import annotations

import numpy as np

AGREEMENT_SIGMAS = 4.0
"""A difference beyond this many Monte Carlo standard errors (or shard sds) raises a warning."""


def _precisions(shard_draws: list[np.ndarray]) -> list[np.ndarray]:
    """W_k: inverse sample covariance of each shard's (C, D, P) draws."""
    return [np.linalg.inv(np.atleast_2d(np.cov(d.reshape(-1, d.shape[-1]), rowvar=False))) for d in shard_draws]


def consensus_draws(shard_draws: list[np.ndarray]) -> np.ndarray:
    """Scott's consensus weighted average of K shards' (C, D, P) draws, draw by draw: (C, D, P)."""
    weights = _precisions(shard_draws)
    weighted = sum(np.einsum("pq,cdq->cdp", w, d) for w, d in zip(weights, shard_draws, strict=True))
    return np.linalg.solve(sum(weights), weighted.reshape(-1, weighted.shape[-1]).T).T.reshape(weighted.shape)


def gaussian_product(shard_draws: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of the product of Gaussian approximations to the shard posteriors."""
    weights = _precisions(shard_draws)
    covariance = np.linalg.inv(sum(weights))
    means = [d.reshape(-1, d.shape[-1]).mean(axis=0) for d in shard_draws]
    return covariance @ sum(w @ m for w, m in zip(weights, means, strict=True)), covariance


def agreement_warnings(names: tuple[str, ...], shard_draws: list[np.ndarray], combined: np.ndarray,
                       product_mean: np.ndarray, ess_bulk: np.ndarray) -> list[str]:
    """Warnings when consensus and Gaussian product, or a shard and the consensus, disagree.

    Consensus versus product: |Δ mean| > 4 Monte Carlo standard errors (sd / √ESS). Shards: a
    shard mean more than 4 of that shard's sds from the consensus mean (under exchangeable
    shards it lies within about √((K−1)/K) of them).
    """
    flat = combined.reshape(-1, combined.shape[-1])
    mean, sd = flat.mean(axis=0), flat.std(axis=0, ddof=1)
    warnings = []
    error = sd / np.sqrt(np.maximum(ess_bulk, 1.0))
    apart = np.abs(mean - product_mean) > AGREEMENT_SIGMAS * error
    if apart.any():
        listed = ", ".join(f"{names[k]} ({abs(mean[k] - product_mean[k]) / error[k]:.1f} MC s.e.)"
                           for k in np.flatnonzero(apart))
        warnings.append(f"consensus and Gaussian-product means disagree: {listed}; sub-posteriors are not Gaussian")
    for index, draws in enumerate(shard_draws):
        shard_flat = draws.reshape(-1, draws.shape[-1])
        distance = np.abs(shard_flat.mean(axis=0) - mean) / shard_flat.std(axis=0, ddof=1)
        far = np.flatnonzero(distance > AGREEMENT_SIGMAS)
        if far.size:
            listed = ", ".join(f"{names[k]} ({distance[k]:.1f} sd)" for k in far)
            warnings.append(f"shard {index} mean lies far from the consensus: {listed}")
    return warnings
