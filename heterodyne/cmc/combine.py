"""Scott's consensus average of shard draws, its Gaussian cross-check, and the shard covariances
both rest on (docs/cmc.md; Scott et al. 2016).

Consensus weighted average: with W_k the inverse sample covariance of shard k's draws, the s-th
combined draw is (Σ_k W_k)⁻¹ Σ_k W_k θ_k^(s). Exact when the sub-posteriors are Gaussian.
Gaussian product (the cross-check): covariance (Σ_k W_k)⁻¹ and mean (Σ_k W_k)⁻¹ Σ_k W_k θ̄_k.

A shard covariance Σ = D R D (D the draws' sds, R their correlations) is regularised when it is
singular or nearly so (few draws, a chain that did not move, a parameter pinned at a bound): an
sd below ``STILL_SD_RATIO`` × max(|mean|, 1) is raised to it and the eigenvalues of R to
``DRAWS_CORRELATION_FLOOR`` × its largest (both in :mod:`heterodyne.numerics`).
"""

from __future__ import annotations

import numpy as np

from heterodyne.numerics import DRAWS_CORRELATION_FLOOR, STILL_SD_RATIO

AGREEMENT_SIGMAS = 4.0
"""A difference beyond this many Monte Carlo standard errors raises a warning."""


def flat(draws: np.ndarray) -> np.ndarray:
    """(C, D, P) draws as (C·D, P)."""
    return draws.reshape(-1, draws.shape[-1])


def regularised_covariance(draws: np.ndarray) -> tuple[np.ndarray, bool]:
    """(Σ, whether it had to be regularised) of (C, D, P) draws (see the module docstring)."""
    values = flat(draws)
    covariance = np.atleast_2d(np.cov(values, rowvar=False))
    sd = np.sqrt(np.diag(covariance))
    least = STILL_SD_RATIO * np.maximum(np.abs(values.mean(axis=0)), 1.0)
    moving = sd > least
    scale = np.where(moving, sd, least)
    correlation = covariance / np.outer(scale, scale)
    correlation[np.diag_indices_from(correlation)] = 1.0
    eigenvalues, eigenvectors = np.linalg.eigh(correlation)
    floor = DRAWS_CORRELATION_FLOOR * eigenvalues[-1]
    regularised = bool(not moving.all() or eigenvalues[0] < floor)
    correlation = (eigenvectors * np.maximum(eigenvalues, floor)) @ eigenvectors.T
    return correlation * np.outer(scale, scale), regularised


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


def gaussian_warnings(names: tuple[str, ...], combined: np.ndarray, gaussian_mean: np.ndarray,
                      ess_bulk: np.ndarray, label: str) -> list[str]:
    """A warning when the combined draws' mean and the Gaussian cross-check's (``label``) differ by
    more than 4 Monte Carlo standard errors (sd / √ESS): the sub-posteriors are not Gaussian."""
    values = flat(combined)
    mean, sd = values.mean(axis=0), values.std(axis=0, ddof=1)
    error = sd / np.sqrt(np.maximum(ess_bulk, 1.0))
    apart = np.abs(mean - gaussian_mean) > AGREEMENT_SIGMAS * error
    if not apart.any():
        return []
    listed = ", ".join(f"{names[k]} ({abs(mean[k] - gaussian_mean[k]) / error[k]:.1f} MC s.e.)"
                       for k in np.flatnonzero(apart))
    return [f"combined and {label} means disagree: {listed}; sub-posteriors are not Gaussian"]
