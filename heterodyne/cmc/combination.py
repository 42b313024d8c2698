"""The combination a run is configured with (``optimization.cmc.combination``), in one call.

``barycenter``: the shards' draws are carried to the sampler's whitened coordinates z, each
shard's draws are moved linearly onto one consensus law (location corrected for the shards'
curvature, spread the Wasserstein barycenter of their covariances in the frame whitened by their
average: :mod:`heterodyne.cmc.barycenter`) and mapped back to θ; its Gaussian version N(m*, S)
is carried to θ by the delta method (mean x(m*), covariance J S Jᵀ).
``scott``: Scott's consensus average in θ and the Gaussian product (:mod:`heterodyne.cmc.scott`).
Either way the shard covariances are regularised where singular (docs/cmc.md).
"""

from __future__ import annotations

import numpy as np

from heterodyne.cmc import scott
from heterodyne.cmc.barycenter import barycenter_draws
from heterodyne.cmc.geometry import Geometry, gaussian_jacobian, parameters_from, whitened_of
from heterodyne.cmc.shard_covariance import flat, regularised_covariance

COMBINATIONS = {
    "barycenter": "each shard's likelihood raised to n / n_k, prior once; every shard carried linearly onto the "
                  "consensus: mean of the shard means corrected for their curvature, Wasserstein barycenter of "
                  "their covariances in the frame whitened by the average covariance (Srivastava, Li & Dunson 2018)",
    "scott": "each shard's prior raised to 1/K; consensus weighted average of draws (Scott et al. 2016)",
}
GAUSSIAN_CHECK = {"barycenter": "Gaussian barycenter", "scott": "Gaussian product"}
"""The Gaussian cross-check of each combination, by name."""
AGREEMENT_SIGMAS = 4.0
"""A difference beyond this many Monte Carlo standard errors raises a warning."""


def combination_of(setting: str, shard_draws: list[np.ndarray],
                   geometry: Geometry) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """(combined (C, D, P) draws, Gaussian cross-check mean and covariance in θ, indices of the shards
    whose covariance had to be regularised) of the shards' (C, D, P) draws in θ."""
    if setting == "barycenter":
        shard_draws = [whitened_of(d, geometry) for d in shard_draws]
    covariances, singular = zip(*(regularised_covariance(d) for d in shard_draws), strict=True)
    covariances, regularised = list(covariances), [k for k, s in enumerate(singular) if s]
    if setting == "scott":
        mean, covariance = scott.gaussian_product(shard_draws, covariances)
        return scott.consensus_draws(shard_draws, covariances), mean, covariance, regularised
    combined, mean, covariance = barycenter_draws(shard_draws, covariances)
    jacobian = gaussian_jacobian(mean, geometry)
    return (parameters_from(combined, geometry), parameters_from(mean, geometry), jacobian @ covariance @ jacobian.T,
            regularised)


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
