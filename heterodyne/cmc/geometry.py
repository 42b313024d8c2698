"""The sampler's coordinates: whitened and unbounded, so the shard posterior is nearly isotropic.

For the P sampled parameters x with bounds [l, h]:

    u = center + L z,      x = l + (h − l) σ(u),      σ(u) = 1 / (1 + e^−u)

The logistic map keeps every draw strictly inside the bounds (near a bound it behaves like a
logarithm, the natural scale of rates spanning decades). ``center`` is u at the NLSQ optimum and
L a square root of the NLSQ covariance carried to u (Δu = Δx / ((h − l) p (1 − p)), p = σ(u)),
times the factor by which a shard's posterior variance exceeds the full-data one (K when a shard's
likelihood holds 1/K of the data, 1 when it is raised to the power K). The density of z is that of x times
|dx/dz| = |det L| Π (h − l) σ(u)(1 − σ(u)); |det L| is constant and left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heterodyne.numerics import RANK_RATIO

EDGE = 1e-6
"""Fractions of the bound interval closer than this to a bound are moved in by this much."""
FALLBACK_U_SD = 0.5
"""Scale (in u) of a parameter whose NLSQ standard error is not available (at a bound, degenerate)."""


@dataclass(frozen=True)
class Geometry:
    """``center`` (P,), ``factor`` L (P, P), and the bounds ``lower``, ``upper`` of the sampled parameters."""

    center: np.ndarray
    factor: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def to_unbounded(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """u = logit((x − l)/(h − l)), with x moved inside the bounds by ``EDGE`` of the interval."""
    fraction = np.clip((x - lower) / (upper - lower), EDGE, 1.0 - EDGE)
    return np.log(fraction) - np.log1p(-fraction)


def whitening(x: np.ndarray, covariance: np.ndarray, lower: np.ndarray, upper: np.ndarray,
              variance_factor: float) -> Geometry:
    """Geometry centred at ``x`` with the ``covariance`` of x (NaN rows: not available) times ``variance_factor``."""
    center = to_unbounded(x, lower, upper)
    fraction = 1.0 / (1.0 + np.exp(-center))
    du_dx = 1.0 / ((upper - lower) * fraction * (1.0 - fraction))
    known = np.isfinite(np.diag(covariance)) & (np.diag(covariance) > 0)
    covariance_u = np.diag(np.full(x.size, FALLBACK_U_SD ** 2))
    block = np.ix_(known, known)
    covariance_u[block] = covariance[block] * np.outer(du_dx[known], du_dx[known])
    scale = np.sqrt(variance_factor * np.diag(covariance_u))
    eigenvalues, eigenvectors = np.linalg.eigh(variance_factor * covariance_u / np.outer(scale, scale))
    eigenvalues = np.maximum(eigenvalues, RANK_RATIO * eigenvalues[-1])
    factor = scale[:, None] * eigenvectors * np.sqrt(eigenvalues)
    return Geometry(center, factor, np.asarray(lower, float), np.asarray(upper, float))


def unit_geometry(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> Geometry:
    """Geometry without NLSQ information: centred at ``x``, scale ``FALLBACK_U_SD`` in every u."""
    return Geometry(to_unbounded(x, lower, upper), np.eye(x.size) * FALLBACK_U_SD,
                    np.asarray(lower, float), np.asarray(upper, float))


def parameters_of(z, center, factor, lower, upper):
    """x(z) = l + (h − l) σ(center + L z), for z of shape (..., P) (JAX or NumPy arrays)."""
    from heterodyne.jaxconfig import jax

    u = center + z @ factor.T
    return lower + (upper - lower) * jax.nn.sigmoid(u)


def log_abs_jacobian(z, center, factor, lower, upper):
    """log |dx/dz| up to the constant log |det L|: Σ log((h − l) σ(u) σ(−u))."""
    from heterodyne.jaxconfig import jax, jnp

    u = center + factor @ z
    return jnp.sum(jnp.log(upper - lower) + jax.nn.log_sigmoid(u) + jax.nn.log_sigmoid(-u))


def whitened_of(x: np.ndarray, geometry: Geometry) -> np.ndarray:
    """z(x) = L⁻¹ (u(x) − center), for x of shape (..., P): the inverse of :func:`parameters_of`."""
    u = to_unbounded(x, geometry.lower, geometry.upper) - geometry.center
    return np.linalg.solve(geometry.factor, u.reshape(-1, u.shape[-1]).T).T.reshape(u.shape)


def parameters_from(z: np.ndarray, geometry: Geometry) -> np.ndarray:
    """x(z) of :func:`parameters_of` for NumPy z of shape (..., P)."""
    u = geometry.center + z @ geometry.factor.T
    return geometry.lower + (geometry.upper - geometry.lower) / (1.0 + np.exp(-u))


def gaussian_jacobian(z: np.ndarray, geometry: Geometry) -> np.ndarray:
    """dx/dz at one z (P,): diag((h − l) σ(u) σ(−u)) L, to carry a covariance in z to x."""
    fraction = 1.0 / (1.0 + np.exp(-(geometry.center + geometry.factor @ z)))
    return ((geometry.upper - geometry.lower) * fraction * (1.0 - fraction))[:, None] * geometry.factor
