"""The covariance of one shard's draws, regularised where singular; both combinations weight
shards by its inverse (:mod:`heterodyne.cmc.scott`, :mod:`heterodyne.cmc.barycenter`; docs/cmc.md).

A shard covariance Σ = D R D (D the draws' sds, R their correlations) is regularised when it is
singular or nearly so (few draws, a chain that did not move, a parameter pinned at a bound): an
sd below ``STILL_SD_RATIO`` × max(|mean|, 1) is raised to it and the eigenvalues of R to
``DRAWS_CORRELATION_FLOOR`` × its largest (both in :mod:`heterodyne.numerics`).
"""

from __future__ import annotations

import numpy as np

from heterodyne.numerics import DRAWS_CORRELATION_FLOOR, STILL_SD_RATIO


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
