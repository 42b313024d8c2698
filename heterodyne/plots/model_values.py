"""The model's values for figures, through compiled functions whose input sizes are rounded up.

Op-by-op JAX evaluation compiles every primitive anew for every new shape (seconds per figure);
one jitted function compiles once. Point and draw counts are padded to the next power of two
(at least MIN_BUCKET), so figures of different sizes, and later runs through JAX's persistent
cache, reuse the same few compiled programs.
"""

from __future__ import annotations

from functools import cache

import numpy as np

MIN_BUCKET = 1024


def bucket(size: int) -> int:
    """The padded size: the next power of two ≥ ``size``, at least MIN_BUCKET."""
    return max(MIN_BUCKET, 1 << max(0, size - 1).bit_length())


def _padded(values: np.ndarray, size: int) -> np.ndarray:
    """``values`` with copies of its first element appended along axis 0 up to ``size``."""
    extra = np.repeat(values[:1], size - values.shape[0], axis=0)
    return np.concatenate([values, extra])


@cache
def _compiled_c2_points():
    from heterodyne.jaxconfig import jax
    from heterodyne.model import c2_points

    return jax.jit(c2_points)


@cache
def _compiled_rate_curves():
    from heterodyne.jaxconfig import jax
    from heterodyne.model import rates

    return jax.jit(lambda theta, times: rates(theta[:, None, :], times[None, :]))


def c2_at(theta, contrast, offset, *, times, q, phi, angle_index, i, j) -> np.ndarray:
    """:func:`heterodyne.model.c2_points` at the given points, shape (P,)."""
    size = len(i)
    padded = bucket(size)
    values = _compiled_c2_points()(
        np.asarray(theta, dtype=float), np.asarray(contrast, dtype=float), np.asarray(offset, dtype=float),
        t=np.asarray(times, dtype=float), q=np.asarray(q, dtype=float), phi=np.asarray(phi, dtype=float),
        angle_index=_padded(np.asarray(angle_index), padded), i=_padded(np.asarray(i), padded),
        j=_padded(np.asarray(j), padded))
    return np.asarray(values)[:size]


def rate_curves_at(theta: np.ndarray, times: np.ndarray) -> np.ndarray:
    """J_ref, J_sample, v and f_s for each row of ``theta`` (S, 14) at ``times``: shape (4, S, N)."""
    size = theta.shape[0]
    curves = _compiled_rate_curves()(_padded(np.asarray(theta, dtype=float), bucket(size)),
                                     np.asarray(times, dtype=float))
    return np.asarray(curves)[:, :size]
