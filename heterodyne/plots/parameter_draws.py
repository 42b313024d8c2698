"""Physics-parameter draws (S, 14) that carry a fit's uncertainty into derived curves.

NLSQ: draws from the Gaussian N(estimate, covariance) over the free physics parameters that have a
standard error (the others stay at their estimate), with a fixed seed so a figure is reproducible.
CMC: evenly spaced draws of the consensus posterior, the unsampled parameters at their NLSQ value.
"""

from __future__ import annotations

import numpy as np

from heterodyne.parameters import N_PHYSICS, PHYSICS_NAMES

MAX_DRAWS = 200
GAUSSIAN_SEED = 0


def nlsq_draws(nlsq: dict[str, np.ndarray], n_draws: int = MAX_DRAWS) -> np.ndarray:
    """``n_draws`` parameter vectors from the NLSQ Gaussian (just the estimate if nothing has an error)."""
    estimate = np.asarray(nlsq["values"][:N_PHYSICS], dtype=float)
    free = list(nlsq["free_names"])
    covariance = np.asarray(nlsq["covariance"], dtype=float)
    variances = np.diagonal(covariance)
    usable = [k for k, name in enumerate(free)
              if name in PHYSICS_NAMES and np.isfinite(variances[k]) and variances[k] > 0]
    draws = np.tile(estimate, (n_draws if usable else 1, 1))
    if usable:
        columns = [PHYSICS_NAMES.index(free[k]) for k in usable]
        block = covariance[np.ix_(usable, usable)]
        rng = np.random.default_rng(GAUSSIAN_SEED)
        draws[:, columns] = rng.multivariate_normal(estimate[columns], block, size=n_draws, method="eigh")
    return draws


def cmc_draws(cmc: dict[str, np.ndarray], base: np.ndarray, max_draws: int = MAX_DRAWS) -> np.ndarray:
    """At most ``max_draws`` consensus draws as full physics vectors; unsampled entries from ``base``."""
    names = list(cmc["names"])
    consensus = np.asarray(cmc["consensus"], dtype=float)
    flat = consensus.reshape(-1, consensus.shape[-1])
    picked = flat[np.unique(np.linspace(0, flat.shape[0] - 1, min(max_draws, flat.shape[0])).astype(int))]
    draws = np.tile(np.asarray(base[:N_PHYSICS], dtype=float), (picked.shape[0], 1))
    for column, name in enumerate(names):
        if name in PHYSICS_NAMES:
            draws[:, PHYSICS_NAMES.index(name)] = picked[:, column]
    return draws


def sampled_physics(cmc: dict[str, np.ndarray]) -> list[str]:
    """The physics parameters CMC sampled, in canonical order (scaling coefficients left out)."""
    names = set(cmc["names"].tolist())
    return [name for name in PHYSICS_NAMES if name in names]
