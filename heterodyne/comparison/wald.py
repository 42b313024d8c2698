"""The cluster-robust Wald test of a reduction's constraints at the full fit.

With θ̂ the fitted parameters, V their frame-clustered sandwich covariance and ν_k its
Bell–McCaffrey degrees of freedom (:mod:`heterodyne.nlsq.sandwich`, nlsq.npz ``covariance`` and
``degrees_of_freedom``), q linear constraints A θ = c (a row per constraint: e_k for θ_k = c_k,
e_a − e_b for θ_a = θ_b) are tested by

    g = A θ̂ − c,     W = gᵀ (A V Aᵀ)⁻¹ g,     F = W / q  ~  F(q, ν)  under the reduction,

ν = min_k ν_k over the constrained parameters: V is a sum over a few frame clusters, so W / q is
referred to an F distribution with the cluster-limited degrees of freedom instead of χ²_q / q,
and the smallest ν_k keeps the reference conservative when the ν_k differ. V holds when the noise
of c2 is shared by the points of common and nearby frames; the independent-noise covariance
would make W too large by the ratio of the variances (8–24² on measured files).

On a bound (one constraint θ_k = c at the lower or upper bound of θ_k, e.g. f0 = 1): θ̂_k can
only lie on one side, the null sits on the boundary of the parameter space, and the test is
one-sided, with t = (θ̂_k − c) / √V_kk:

    p = P(T_ν ≥ t)  at a lower bound,     p = P(T_ν ≤ t)  at an upper bound.

With several constraints of which some sit on a bound, the null distribution of W is a mixture
of χ² (χ̄²) that is stochastically smaller than χ²_q, so the F(q, ν) p-value above is kept: it is
conservative there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from heterodyne.comparison.reductions import Constraint


@dataclass(frozen=True)
class WaldTest:
    """One test: the statistic (F, or t when one-sided), its degrees of freedom (q, ν), the
    p-value, whether one-sided, or why it could not be formed."""

    statistic: float
    q: int
    nu: float
    p_value: float
    one_sided: bool
    problem: str | None = None


def _not_testable(q: int, why: str) -> WaldTest:
    return WaldTest(np.nan, q, np.nan, np.nan, False, why)


def wald_test(constraints: tuple[Constraint, ...], free_names: tuple[str, ...], values: np.ndarray,
              covariance: np.ndarray, degrees_of_freedom: np.ndarray,
              bounds: dict[str, tuple[float, float]]) -> WaldTest:
    """The test of ``constraints`` (each on fitted parameters, named in ``free_names``) at the fitted
    ``values`` with the sandwich ``covariance`` and its per-parameter ``degrees_of_freedom``;
    ``bounds`` of each constrained parameter decide the one-sided case (module docstring)."""
    q = len(constraints)
    index = {name: k for k, name in enumerate(free_names)}
    rows = np.zeros((q, len(free_names)))
    target = np.zeros(q)
    for row, (name, other) in enumerate(constraints):
        rows[row, index[name]] = 1.0
        if isinstance(other, str):
            rows[row, index[other]] = -1.0
        else:
            target[row] = other
    used = np.flatnonzero(np.abs(rows).sum(axis=0))
    block = covariance[np.ix_(used, used)]
    if not (np.isfinite(block).all() and np.isfinite(degrees_of_freedom[used]).all()):
        names = ", ".join(free_names[k] for k in used if not np.isfinite(covariance[k, k]))
        return _not_testable(q, f"no honest covariance of {names or 'the constrained parameters'}")
    nu = float(degrees_of_freedom[used].min())
    difference = rows[:, used] @ values[used] - target
    spread = rows[:, used] @ block @ rows[:, used].T
    if q == 1 and not isinstance(constraints[0][1], str):
        name, value = constraints[0]
        lower, upper = bounds[name]
        t = float(difference[0] / np.sqrt(spread[0, 0]))
        if value in (lower, upper):
            p = float(stats.t.cdf(t, nu) if value == upper else stats.t.sf(t, nu))
            return WaldTest(t, 1, nu, p, True)
    try:
        statistic = float(difference @ np.linalg.solve(spread, difference)) / q
    except np.linalg.LinAlgError:
        return _not_testable(q, "the constrained directions' covariance is singular")
    return WaldTest(statistic, q, nu, float(stats.f.sf(statistic, q, nu)), False)
