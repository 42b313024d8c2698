"""The cluster-robust Wald test of a reduction's constraints at the full fit.

With θ̂ the fitted parameters, V their frame-clustered sandwich covariance and ν_k its
Bell–McCaffrey degrees of freedom (:mod:`heterodyne.nlsq.sandwich`, nlsq.npz ``covariance`` and
``degrees_of_freedom``), q linear constraints A θ = c (a row a_j per constraint: e_k for
θ_k = c_k, e_a − e_b for θ_a = θ_b) give

    g = A θ̂ − c,     S = A V Aᵀ,     t_j = g_j / √S_jj,

and t_j is referred to t(ν_j), ν_j the smallest ν_k of the parameters of row j: V is a sum over a
few frame clusters, so S_jj is itself noisy with about ν_j degrees of freedom.

One constraint (q = 1): the two-sided t test, F = t² ~ F(1, ν). On a bound (θ_k = c at the lower
or upper bound of θ_k, e.g. f0 = 1) θ̂_k can only lie on one side, the null sits on the boundary
of the parameter space, and the test is one-sided:

    p = P(T_ν ≥ t)  at a lower bound,     p = P(T_ν ≤ t)  at an upper bound.

Several constraints (q > 1): Bonferroni's test over the q single-constraint tests above (each
one-sided at a bound), p = min(1, q · min_j p_j), valid whatever the correlation of the g_j.
The joint statistic W = gᵀ S⁻¹ g is not used: with S a Wishart estimate of ν degrees of freedom
(ν S ~ W_q(ν, Σ), ν = min ν_k) W is Hotelling's T², W (ν − q + 1) / (q ν) ~ F(q, ν − q + 1),
which needs ν > q − 1 and is nearly powerless at ν − q + 1 ≈ 1; on speckle files ν is 2–6,
comparable to q. Referring W / q to F(q, ν), as if S were exact up to one scale, ignores the
noise in S's off-diagonal entries and is too liberal (docs/comparison.md, measured).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from heterodyne.comparison.reductions import Constraint

ONE_SIDED = "t(nu), one-sided at a bound"
TWO_SIDED = "F(1, nu) = t(nu)^2"
BONFERRONI = "Bonferroni over q t(nu)"


@dataclass(frozen=True)
class WaldTest:
    """One test: the statistic (F = t² for one two-sided constraint; t when one-sided, or for
    Bonferroni's the t of the smallest p-value), q, the degrees of freedom ν (of that t), the
    p-value, the reference (``ONE_SIDED``, ``TWO_SIDED`` or ``BONFERRONI``), or why it could not
    be formed."""

    statistic: float
    q: int
    nu: float
    p_value: float
    reference: str
    problem: str | None = None

    @property
    def one_sided(self) -> bool:
        return self.reference == ONE_SIDED


def not_testable(q: int, why: str) -> WaldTest:
    """A test of ``q`` constraints that could not be formed, and ``why`` (NaN statistic and p-value)."""
    return WaldTest(np.nan, q, np.nan, np.nan, "", why)


def _at_bound(constraint: Constraint, bounds: dict[str, tuple[float, float]]) -> bool:
    """Whether ``constraint`` sets a parameter at one of its bounds."""
    name, value = constraint
    return not isinstance(value, str) and value in bounds[name]


def _t_p_value(t: float, nu: float, constraint: Constraint, bounds: dict[str, tuple[float, float]]) -> float:
    """The p-value of one constraint's t: one-sided when it sets a parameter at a bound."""
    name, value = constraint
    if _at_bound(constraint, bounds):
        return float(stats.t.cdf(t, nu) if value == bounds[name][1] else stats.t.sf(t, nu))
    return float(2.0 * stats.t.sf(abs(t), nu))


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
        return not_testable(q, f"no honest covariance of {names or 'the constrained parameters'}")
    difference = rows[:, used] @ values[used] - target
    spread = rows[:, used] @ block @ rows[:, used].T
    t = difference / np.sqrt(np.diag(spread))
    row_nu = [float(degrees_of_freedom[np.flatnonzero(rows[j])].min()) for j in range(q)]
    p_values = [_t_p_value(float(t[j]), row_nu[j], constraints[j], bounds) for j in range(q)]
    if q == 1:
        if _at_bound(constraints[0], bounds):
            return WaldTest(float(t[0]), 1, row_nu[0], p_values[0], ONE_SIDED)
        return WaldTest(float(t[0] ** 2), 1, row_nu[0], p_values[0], TWO_SIDED)
    best = int(np.argmin(p_values))
    return WaldTest(float(t[best]), q, row_nu[best], min(1.0, q * p_values[best]), BONFERRONI)
