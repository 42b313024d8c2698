"""A fit's model matrices and standardised residuals, for files people open outside the package.

c2_model[a, i, j] = offset_a + contrast_a · (R + S + X)/f² at frames t_i, t_j
(:func:`heterodyne.model.c2_grid`, docs/model.md), evaluated one angle at a time so a large
selection never holds more than one (N, N) intermediate per quantity.
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def _compiled_grid():
    from heterodyne.jaxconfig import jax
    from heterodyne.model import c2_grid

    return jax.jit(c2_grid)


def model_matrices(theta, contrast, offset, *, t, q, phi) -> np.ndarray:
    """(A, N, N) model c2 of every angle on the frame grid ``t``, float64."""
    contrast, offset = np.asarray(contrast, dtype=float), np.asarray(offset, dtype=float)
    q, phi = np.asarray(q, dtype=float), np.asarray(phi, dtype=float)
    grid = _compiled_grid()
    theta, t = np.asarray(theta, dtype=float), np.asarray(t, dtype=float)
    return np.stack([np.asarray(grid(theta, contrast[a:a + 1], offset[a:a + 1], t=t, q=q[a:a + 1],
                                     phi=phi[a:a + 1]))[0] for a in range(q.size)])


def residual_matrices(standardised: np.ndarray, angle_index, i, j, shape: tuple[int, int, int]) -> np.ndarray:
    """(A, N, N) float64 with the standardised residual (data − model)/σ of every fitted point
    (a, i, j) at [a, i, j] and [a, j, i], NaN where no point was fitted (the diagonal, and points
    left out of a subsampled fit)."""
    matrices = np.full(shape, np.nan)
    matrices[angle_index, i, j] = standardised
    matrices[angle_index, j, i] = standardised
    return matrices
