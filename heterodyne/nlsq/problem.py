"""A least-squares problem: which parameters vary, their bounds, and the weighted residuals.

The full parameter vector is [θ (14 physics), contrast coefficients, offset coefficients]; the
solver sees only the varying ones, x. A parameter tied to another (``tied_to``) is not among them:
it takes its target's value, so the full vector is

    full = [initial, x][index],

with ``index`` (:func:`value_index`) pointing each fixed slot at its own initial value, each free
slot at its place in x, and each tied slot at its target's place in x. This module is the one
place that maps x to the full vector: the fit (:mod:`heterodyne.nlsq.projection`), the sampler
(:mod:`heterodyne.cmc.posterior`) and the reports all go through it. With σ_p the noise of point p,

    r_p(x) = (y_p − c2(θ, contrast, offset; a_p, i_p, j_p)) / σ_p

over the strict upper triangle of every angle. ``weighted_residuals`` evaluates them on a chunk
of points, for the sampler (:mod:`heterodyne.cmc.posterior`); the fit works on the same residuals
with the scaling projected out (:mod:`heterodyne.nlsq.projection`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from heterodyne.parameters import N_PHYSICS, PHYSICS_NAMES
from heterodyne.points import PointSet
from heterodyne.scaling import ScalingModel


@dataclass(frozen=True)
class FitProblem:
    """Everything a fit needs, as plain arrays: parameters, scaling, time grid, points, noise."""

    names: tuple[str, ...]
    initial: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    vary: np.ndarray
    scaling: ScalingModel
    t: np.ndarray
    q: np.ndarray
    phi: np.ndarray
    points: PointSet
    sigma: np.ndarray
    source: np.ndarray
    """(n,) for each slot of the full vector, the slot whose value it takes: its own, or, for a
    tied parameter, its target's."""

    @property
    def free_names(self) -> tuple[str, ...]:
        return tuple(name for name, varies in zip(self.names, self.vary, strict=False) if varies)

    @property
    def ties(self) -> dict[str, str]:
        """{tied parameter: the parameter it equals}."""
        return {self.names[k]: self.names[s] for k, s in enumerate(self.source) if s != k}

    def full_vector(self, x_free: np.ndarray) -> np.ndarray:
        """The full parameter vector at the free parameters ``x_free`` (module docstring)."""
        return np.asarray(full_from_free(x_free, self.initial, value_index(self.vary, self.source)))


def value_index(vary: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Where each slot of the full vector reads its value in [initial (n), x (free)]: slot k of a
    fixed parameter at k, of a free one at n + its place in x, of a tied one where its target reads."""
    n = vary.size
    own = np.where(vary, n + np.cumsum(vary) - 1, np.arange(n))
    return own[source]


def full_from_free(x, initial, index):
    """The full vector [initial, x][index] (JAX, differentiable in x; :func:`value_index`)."""
    from heterodyne.jaxconfig import jnp

    return jnp.concatenate([jnp.asarray(initial), jnp.asarray(x)])[index]


def tie_source(parameter_table: list[dict], n: int) -> np.ndarray:
    """(n,) the slot each of ``n`` full-vector slots takes its value from: a physics parameter
    with ``tied_to`` its target's slot, every other slot its own."""
    names = [row["name"] for row in parameter_table]
    source = np.arange(n)
    for k, row in enumerate(parameter_table):
        if row.get("tied_to") is not None:
            source[k] = names.index(row["tied_to"])
    return source


def make_problem(parameter_table: list[dict], scaling: ScalingModel, *, t, q, phi, points: PointSet,
                 sigma: np.ndarray) -> FitProblem:
    """Assemble a problem from the resolved per-parameter table (canonical order) and the scaling."""
    coefficients = scaling.contrast + scaling.offset
    return FitProblem(
        names=tuple(PHYSICS_NAMES) + tuple(c.name for c in coefficients),
        initial=np.array([p["initial"] for p in parameter_table] + [c.initial for c in coefficients], float),
        lower=np.array([p["lower"] for p in parameter_table] + [c.lower for c in coefficients], float),
        upper=np.array([p["upper"] for p in parameter_table] + [c.upper for c in coefficients], float),
        vary=np.array([p["vary"] for p in parameter_table] + [c.vary for c in coefficients], bool),
        scaling=scaling,
        t=np.asarray(t, float),
        q=np.asarray(q, float),
        phi=np.asarray(phi, float),
        points=points,
        sigma=np.asarray(sigma, float),
        source=tie_source(parameter_table, N_PHYSICS + len(coefficients)),
    )


def split_full(full, n_contrast: int):
    """(θ, contrast coefficients, offset coefficients) of a full parameter vector."""
    return full[:N_PHYSICS], full[N_PHYSICS:N_PHYSICS + n_contrast], full[N_PHYSICS + n_contrast:]


def weighted_residuals(x, constants, angle_index, i, j, value, weight, *, n_contrast, reverse_rule=False):
    """(y − c2(full(x))) · w on one chunk of points; ``constants`` holds the problem's arrays.

    Everything is an argument (nothing is closed over), so one compiled function serves every
    problem of the same shapes, in this process and through the persistent compile cache.
    ``reverse_rule``: c2 through :func:`heterodyne.model.c2_points_reverse` (the same values, with
    the sampler's own reverse-mode rule; reverse mode only).
    """
    from heterodyne import model

    theta, contrast, offset = physics_and_scaling(x, constants, n_contrast=n_contrast)
    c2_function = model.c2_points_reverse if reverse_rule else model.c2_points
    c2 = c2_function(theta, contrast, offset, t=constants.t, q=constants.q, phi=constants.phi,
                     angle_index=angle_index, i=i, j=j)
    return (value - c2) * weight


def physics_and_scaling(x, constants, *, n_contrast):
    """(θ, contrast per angle, offset per angle) at the free parameters ``x``: the full vector
    from ``constants`` (:func:`full_from_free`), its scaling coefficients through the basis."""
    full = full_from_free(x, constants.initial, constants.value_index)
    theta, contrast_coefficients, offset_coefficients = split_full(full, n_contrast)
    return theta, constants.basis @ contrast_coefficients, constants.basis @ offset_coefficients


class ProblemConstants(NamedTuple):
    """The problem's arrays that ``weighted_residuals`` reads (JAX arrays; a pytree for jit)."""

    initial: Any       # (n,) full parameter vector: fixed values, and the start of free ones
    value_index: Any   # (n,) where each full slot takes its value from (:func:`full_from_free`)
    basis: Any         # (A, m) scaling basis: contrast = basis @ contrast coefficients
    t: Any             # (N,) absolute frame times
    q: Any             # (A,) scattering vector per angle
    phi: Any           # (A,) detector angle per angle (degrees)


class PointArrays(NamedTuple):
    """A chunk's or shard's points as arrays of equal length (a pytree for jit)."""

    angle_index: Any
    i: Any
    j: Any
    value: Any
    weight: Any        # 1/σ; 0 on padding points


def problem_constants(problem: FitProblem) -> ProblemConstants:
    """The problem's arrays that ``weighted_residuals`` reads from ``constants`` (as JAX arrays)."""
    from heterodyne.jaxconfig import jnp

    return ProblemConstants(
        initial=jnp.asarray(problem.initial),
        value_index=jnp.asarray(value_index(problem.vary, problem.source)),
        basis=jnp.asarray(problem.scaling.basis),
        t=jnp.asarray(problem.t),
        q=jnp.asarray(problem.q),
        phi=jnp.asarray(problem.phi),
    )


def padded_point_arrays(problem: FitProblem, size: int) -> PointArrays:
    """(angle_index, i, j, value, weight = 1/σ) of the problem's points, padded to ``size``.

    Padding points sit on the diagonal of frame 0 with zero weight: residual 0, Jacobian row 0,
    so they change no sum, and equal sizes let one compiled function serve every chunk or shard.
    """
    points = problem.points
    padding = size - points.size

    def pad(values, fill):
        return np.concatenate([values, np.full(padding, fill, dtype=values.dtype)])

    return PointArrays(pad(points.angle_index, 0), pad(points.i, 0), pad(points.j, 0),
                       pad(points.value, 0.0), pad(1.0 / problem.sigma, 0.0))


