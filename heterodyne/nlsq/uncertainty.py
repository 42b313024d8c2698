"""Standard errors from the Jacobian at the optimum, and which parameters cannot have one.

With J the Jacobian of the weighted residuals, H = JᵀJ and a "meat" M estimating the covariance
of the score Jᵀr, the covariance is the sandwich cov = H⁻¹ M H⁻¹. For independent noise
M = χ²_red H (χ²_red = Σr²/(m − n)) and cov = χ²_red H⁻¹; for frame-correlated noise M comes
from :mod:`heterodyne.nlsq.sandwich`, and the sandwich is never taken below χ²_red H⁻¹ in any
direction (:func:`at_least_independent`). H⁻¹ is computed in column-scaled coordinates,
G = D⁻¹ JᵀJ D⁻¹ with D = √diag(JᵀJ) (the column norms of J), where G has unit diagonal and its
condition number measures identifiability independently of units. A parameter whose column is
zero has no effect. Parameters at a bound are left out (their error bar is not Gaussian);
eigen-directions of G with λ/λ_max < ``RANK_RATIO`` (:mod:`heterodyne.numerics`) are dropped from the inverse and the
parameters that load on them (|v_k| ≥ ``DEGENERATE_LOADING``) are reported as degenerate, not
given a meaningless tiny or huge error bar.

Intervals: a sandwich's variance is itself estimated from few clusters, so its standard errors
carry ν degrees of freedom (:mod:`heterodyne.nlsq.sandwich`) and the central intervals use
Student-t quantiles, x ± t_ν((1 + level)/2) · stderr; the independent-noise errors have ν = ∞
(normal quantiles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from heterodyne.numerics import RANK_RATIO

DEGENERATE_LOADING = 0.2
BOUND_TOLERANCE = 1e-6
IDENTIFIABILITY_CONDITION = 1e4


@dataclass(frozen=True)
class Uncertainties:
    """Per free parameter: standard error and degrees of freedom (NaN when not reportable) and
    status; plus diagnostics."""

    stderr: np.ndarray
    status: tuple[str, ...]
    covariance: np.ndarray
    condition_number: float
    weakest_direction: tuple[str, ...]
    degrees_of_freedom: np.ndarray

    def interval(self, values: np.ndarray, level: float = 0.90) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) central ``level`` intervals of the free parameters at ``values``:
        values ∓ t_ν((1 + level)/2) · stderr (NaN where not reportable)."""
        half = stats.t.ppf(0.5 + 0.5 * level, self.degrees_of_freedom) * self.stderr
        return values - half, values + half


def bound_status(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> list[str]:
    """'at_lower_bound' / 'at_upper_bound' within a relative tolerance of the range, else 'ok'."""
    tolerance = BOUND_TOLERANCE * (upper - lower)
    return [
        "at_lower_bound" if xi - lo <= tol else "at_upper_bound" if hi - xi <= tol else "ok"
        for xi, lo, hi, tol in zip(x, lower, upper, tolerance, strict=False)
    ]


def at_least_independent(sandwich: np.ndarray, independent: np.ndarray) -> np.ndarray:
    """The sandwich covariance raised to the independent-noise one in every direction where it is
    smaller, both in the eigenbasis of the scaled JᵀJ (where the independent-noise covariance is
    the diagonal ``independent``): with S = diag(independent)^(-1/2) · sandwich ·
    diag(independent)^(-1/2) = Q diag(w) Qᵀ, the result is diag(independent)^(1/2) Q diag(max(w, 1))
    Qᵀ diag(independent)^(1/2).

    Noise shared by elements of nearby frames is positively correlated, which can only widen the
    error bars; a sandwich below the independent-noise covariance is the estimator's own noise
    and small-sample bias (few frame blocks for many parameters), not information (measured on
    independent noise at N = 80: 90 % intervals covered 81 % without this floor)."""
    root = np.sqrt(independent)
    weights, rotation = np.linalg.eigh(sandwich / np.outer(root, root))
    return np.outer(root, root) * ((rotation * np.maximum(weights, 1.0)) @ rotation.T)


def parameter_uncertainties(jtj: np.ndarray, chi2_reduced: float, x: np.ndarray,
                            lower: np.ndarray, upper: np.ndarray, names: tuple[str, ...],
                            meat: np.ndarray | None = None,
                            degrees_of_freedom: np.ndarray | None = None) -> Uncertainties:
    """Standard errors, statuses and covariance (NaN rows/columns where not reportable) from JᵀJ;
    ``meat`` M of the sandwich and its ``degrees_of_freedom`` per free parameter, or None for
    independent noise (M = χ²_red JᵀJ, ν = ∞)."""
    n_free = x.size
    status = bound_status(x, lower, upper)
    interior = np.array([s == "ok" for s in status])
    column_norm = np.sqrt(np.clip(np.diag(jtj), 0.0, None))
    insensitive = column_norm == 0.0
    for k in np.flatnonzero(insensitive & interior):
        status[k] = "degenerate"
    usable = np.flatnonzero(interior & ~insensitive)

    covariance = np.full((n_free, n_free), np.nan)
    condition = float("inf") if insensitive.any() else 1.0
    weakest: tuple[str, ...] = tuple(names[k] for k in np.flatnonzero(insensitive))
    if usable.size:
        gram = jtj[np.ix_(usable, usable)] / np.outer(column_norm[usable], column_norm[usable])
        eigenvalues, eigenvectors = np.linalg.eigh(gram)
        largest = eigenvalues[-1]
        condition = max(condition, float(largest / max(eigenvalues[0], largest * np.finfo(float).eps)))
        if condition > IDENTIFIABILITY_CONDITION and not weakest:
            weakest = tuple(names[usable[k]] for k in np.flatnonzero(np.abs(eigenvectors[:, 0]) >= DEGENERATE_LOADING))
        degenerate = eigenvalues < RANK_RATIO * largest
        for direction in eigenvectors[:, degenerate].T:
            for k in np.flatnonzero(np.abs(direction) >= DEGENERATE_LOADING):
                status[usable[k]] = "degenerate"
        kept = ~degenerate
        inverse = (eigenvectors[:, kept] / eigenvalues[kept]) @ eigenvectors[:, kept].T
        scale = np.outer(column_norm[usable], column_norm[usable])
        if meat is None:
            covariance[np.ix_(usable, usable)] = chi2_reduced * inverse / scale
        else:
            basis, curvature = eigenvectors[:, kept], eigenvalues[kept]
            sandwich = basis.T @ (meat[np.ix_(usable, usable)] / scale) @ basis / np.outer(curvature, curvature)
            floored = at_least_independent(sandwich, chi2_reduced * np.reciprocal(curvature))
            covariance[np.ix_(usable, usable)] = basis @ floored @ basis.T / scale

    stderr = np.sqrt(np.diag(covariance))
    reportable = np.array([s == "ok" for s in status])
    stderr[~reportable] = np.nan
    covariance[~reportable, :] = np.nan
    covariance[:, ~reportable] = np.nan
    freedom = np.full(n_free, np.inf) if degrees_of_freedom is None else np.array(degrees_of_freedom, dtype=float)
    freedom[~reportable] = np.nan
    return Uncertainties(stderr, tuple(status), covariance, condition, weakest, freedom)
