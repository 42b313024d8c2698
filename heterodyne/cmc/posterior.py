"""One shard's log posterior in the sampler's coordinates z (docs/cmc.md).

    log p_k(z) = −½ λ_k Σ_{p ∈ shard k} r_p(x_adj)²  +  ρ_k log π(x)  +  log |dx/dz|,   x = x(z)

with r_p = (y_p − c2_p) / σ_p the weighted residuals of the NLSQ problem (σ estimated once
from the data, the same σ as the fit), evaluated at the shard's points through the O(N)
cumulative integrals, point by point or, for a shard holding most points, on the dense tiles of
:mod:`heterodyne.cmc.tiles`, at the adjusted point x_adj(x) of
:mod:`heterodyne.cmc.calibration` (the likelihood's curvature is the honest one), and π the
prior: uniform within the bounds (constant), or normal / lognormal truncated to the bounds. The
powers depend on the combination:

- ``barycenter``: λ_k = n / n_k (the likelihood of n_k of the n points stands in for all of
  them), ρ_k = 1: every shard is a full-width, prior-once approximation of the posterior;
- ``scott``: λ_k = 1, ρ_k = 1/K: the product of the K shard posteriors carries the prior once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from heterodyne.cmc import tiles
from heterodyne.cmc.calibration import Adjustment
from heterodyne.cmc.geometry import Geometry, log_abs_jacobian, parameters_of
from heterodyne.config.schema import PRIOR_TYPES
from heterodyne.nlsq.problem import (
    FitProblem,
    PointArrays,
    ProblemConstants,
    padded_point_arrays,
    problem_constants,
    weighted_residuals,
)

PRIOR_KINDS = {family: code for code, family in enumerate(PRIOR_TYPES)}
"""The integer code of each prior family, as compiled code reads it (``log_prior``)."""
NORMAL, LOGNORMAL = PRIOR_KINDS["normal"], PRIOR_KINDS["lognormal"]


@dataclass(frozen=True)
class Priors:
    """Per sampled parameter: prior family code (``PRIOR_KINDS``), mu and sigma (unused for uniform)."""

    kind: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray


def priors_of(problem: FitProblem, table: list[dict]) -> Priors:
    """The priors of the sampled (varying) parameters; scaling coefficients are uniform in their bounds."""
    by_name = {row["name"]: row["prior"] for row in table}
    chosen = [by_name.get(name, {"type": "uniform"}) for name in problem.free_names]
    return Priors(
        kind=np.array([PRIOR_KINDS[p["type"]] for p in chosen], dtype=np.int64),
        mu=np.array([p.get("mu", 0.0) for p in chosen], dtype=float),
        sigma=np.array([p.get("sigma", 1.0) for p in chosen], dtype=float),
    )


def log_prior(x, kind, mu, sigma):
    """Σ log π(x) up to constants: 0 (uniform), −½((x−μ)/s)² (normal), −log x − ½((log x−μ)/s)² (lognormal)."""
    from heterodyne.jaxconfig import jnp

    log_x = jnp.log(jnp.where(x > 0.0, x, 1.0))
    normal = -0.5 * ((x - mu) / sigma) ** 2
    lognormal = -log_x - 0.5 * ((log_x - mu) / sigma) ** 2
    return jnp.sum(jnp.where(kind == NORMAL, normal, jnp.where(kind == LOGNORMAL, lognormal, 0.0)))


class DensityConstants(NamedTuple):
    """Everything :func:`log_density` reads besides the points (JAX arrays; a pytree for jit)."""

    problem: ProblemConstants
    center: Any             # geometry: x(z) = center + factor ⊙ z in the unbounded coordinates
    factor: Any
    lower: Any
    upper: Any
    likelihood_shift: Any   # u_adj = shift + F z where ``in_u`` (:func:`adjusted_point`)
    likelihood_factor: Any
    anchor: Any             # x̂ + c (x − x̂) elsewhere
    contraction: Any
    in_u: Any
    prior_kind: Any         # per parameter: index into PRIOR_TYPES
    prior_mu: Any
    prior_sigma: Any
    likelihood_power: Any   # λ_k
    prior_power: Any        # ρ_k


def adjusted_point(z, x, constants):
    """x_adj of :mod:`heterodyne.cmc.calibration` at z (and x = x(z)): through u where ``in_u``,
    u_adj = shift + F z with F = C_u L and shift = û + C_u (center − û); elsewhere in θ,
    x̂ + c (x − x̂)."""
    from heterodyne.jaxconfig import jnp

    through_u = parameters_of(z, constants.likelihood_shift, constants.likelihood_factor, constants.lower,
                              constants.upper)
    in_theta = constants.anchor + constants.contraction * (x - constants.anchor)
    return jnp.where(constants.in_u, through_u, in_theta)


def squared_residual_sum(x, constants: ProblemConstants, data: PointArrays | tiles.TiledPoints, *, n_contrast: int):
    """Σ_p r_p² over the shard's points, laid out as ``data`` says (points or tiles)."""
    if isinstance(data, tiles.TiledPoints):
        return tiles.squared_residual_sum(x, constants, data, n_contrast=n_contrast)
    residuals = weighted_residuals(x, constants, *data, n_contrast=n_contrast, reverse_rule=True)
    return residuals @ residuals


def log_density(z, constants, data, *, n_contrast):
    """log p_k(z). Every array is an argument, nothing is closed over: one compiled sampler serves
    every shard of the same (padded) size, in this process and through the persistent cache."""
    geometry = (constants.center, constants.factor, constants.lower, constants.upper)
    x = parameters_of(z, *geometry)
    squares = squared_residual_sum(adjusted_point(z, x, constants), constants.problem, data, n_contrast=n_contrast)
    prior = log_prior(x, constants.prior_kind, constants.prior_mu, constants.prior_sigma)
    return -0.5 * constants.likelihood_power * squares + constants.prior_power * prior + log_abs_jacobian(z, *geometry)


def powers(combination: str, n_points: int, shard_points: int, n_shards: int) -> tuple[float, float]:
    """(λ_k, ρ_k): the powers of a shard's likelihood and prior under ``combination``."""
    if combination == "barycenter":
        return n_points / shard_points, 1.0
    return 1.0, 1.0 / n_shards


def model_arguments(problem: FitProblem, geometry: Geometry, adjustment: Adjustment, priors: Priors,
                    shard_powers: tuple[float, float], size: int, *,
                    on_tiles: bool = False) -> tuple[DensityConstants, PointArrays | tiles.TiledPoints]:
    """(constants, data) of ``problem``'s points: on the tiles of :mod:`heterodyne.cmc.tiles` when
    ``on_tiles``, else as point arrays padded to ``size`` with zero-weight points (frame 0 with
    itself, residual 0). Either way every shard of a plan has the same array shapes."""
    from heterodyne.jaxconfig import jnp

    constants = DensityConstants(
        problem=problem_constants(problem),
        center=jnp.asarray(geometry.center),
        factor=jnp.asarray(geometry.factor),
        lower=jnp.asarray(geometry.lower),
        upper=jnp.asarray(geometry.upper),
        likelihood_shift=jnp.asarray(adjustment.anchor_u + adjustment.matrix @ (geometry.center - adjustment.anchor_u)),
        likelihood_factor=jnp.asarray(adjustment.matrix @ geometry.factor),
        anchor=jnp.asarray(adjustment.anchor),
        contraction=jnp.asarray(adjustment.contraction),
        in_u=jnp.asarray(adjustment.in_u),
        prior_kind=jnp.asarray(priors.kind),
        prior_mu=jnp.asarray(priors.mu),
        prior_sigma=jnp.asarray(priors.sigma),
        likelihood_power=jnp.asarray(shard_powers[0]),
        prior_power=jnp.asarray(shard_powers[1]),
    )
    data = tiles.tiled_points(problem) if on_tiles else padded_point_arrays(problem, size)
    return constants, type(data)(*(jnp.asarray(array) for array in data))
