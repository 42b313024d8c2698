"""The bounded nonlinear least-squares fit: min_x ½ Σ r_p(x)², lower ≤ x ≤ upper.

Solver: SciPy's trust-region reflective method (``scipy.optimize.least_squares``, method="trf"),
with the exact JAX Jacobian and Jacobian-based variable scaling. It is maintained, handles
bounds natively (the physics bounds span eight decades), and reports why it stopped.

SciPy is handed the compressed problem (M₁, r_c) of ``ProjectedEvaluator.square_root`` instead of
the P × n Jacobian: at every x, ‖J p + r‖ = ‖M₁ p + r_c‖ for all steps p, so the cost, the
gradient, the trust-region model and hence every step are those of the full problem, while
SciPy's per-iteration SVD shrinks from P × n to (n+1) × n and the P × n Jacobian is never held
in memory (measured: same iterates to 12 digits as the uncompressed fit, 3× faster at N = 400).
Uncertainties: the frame-clustered sandwich (:mod:`heterodyne.nlsq.sandwich`) is the reported
one; the independent-noise covariance χ²_red (JᵀJ)⁻¹ is kept beside it, and their ratio is the
diagnostic of how much the correlated noise removes.
The scaling (contrast, offset) is solved exactly at every θ (variable projection,
:mod:`heterodyne.nlsq.projection`), so the search runs over the physics alone. Global search: the
candidate starts (:mod:`heterodyne.nlsq.starts`) each get a short fit on a subsample, the best
are refined on all points, and the lowest cost wins.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import least_squares

from heterodyne.config.tree import NlsqSettings
from heterodyne.nlsq.goodness import ResidualStructure, residual_structure
from heterodyne.nlsq.labelling import has_preferred_labelling, indistinguishable, mirror_image
from heterodyne.nlsq.problem import FitProblem
from heterodyne.nlsq.progress import Progress
from heterodyne.nlsq.projection import ProjectedEvaluator
from heterodyne.nlsq.sandwich import frame_clustered_meat
from heterodyne.nlsq.uncertainty import Uncertainties, parameter_uncertainties
from heterodyne.parameters import N_PHYSICS, PHYSICS_NAMES
from heterodyne.points import random_index

log = logging.getLogger("heterodyne")

CHI2_WARNING = 1.5
"""χ²_red above this (with σ estimated from the data) says the noise is not what σ describes."""
CHI2_FAILURE = 10.0
"""χ²_red above this is more than frame-correlated noise gives a right fit (measured 1.7–2.1 on the
correlator's own file, up to about 5 on speckle simulations): the fit is not converged."""
RATIO_WARNING = 1.5
"""An honest / independent-noise stderr ratio above this says the noise is not independent."""
COARSE_POINTS = 20_000
"""Points of the subsample on which the global search compares its starts."""
COARSE_EVALUATIONS = 25
"""Function evaluations each start of the global search gets on the subsample."""
REFINED = 2
"""The best starts of the global search that are refined on all points."""
STRUCTURE_POINTS = 2_000_000
"""At most this many points go into the residual-structure check (a fixed subsample beyond)."""
SAME_COST = 1e-6
"""Two starts of the search whose costs differ by less than this (relative) ended in one minimum."""


@dataclass(frozen=True)
class SolverOutcome:
    """What the solver ends with: best full parameter vector, diagnostics and uncertainties. Internal
    to this package: :func:`heterodyne.nlsq.report.nlsq_result` turns it into the fit's
    :class:`heterodyne.nlsq.result.NlsqResult`."""

    full: np.ndarray
    free_names: tuple[str, ...]
    uncertainties: Uncertainties   # frame-clustered sandwich: the reported one
    independent: Uncertainties     # χ²_red (JᵀJ)⁻¹, as if every point's noise were independent
    sandwich: dict                 # how the sandwich was formed (block size, clusters, ρ(1))
    noise_warnings: tuple[str, ...]
    cost: float
    chi2_reduced: float
    n_points: int
    iterations: int
    function_evaluations: int
    status: int
    message: str
    converged: bool
    convergence_warning: str | None
    residual_structure: ResidualStructure
    start_costs: tuple[float, ...]
    best_start: int
    wall_time: float


class CompressedProblem:
    """r_c(x) and M₁(x) for SciPy, from one evaluation per x (the Jacobian call reuses it)."""

    def __init__(self, evaluator: ProjectedEvaluator):
        self.evaluator = evaluator
        self._cached: tuple[bytes, np.ndarray] | None = None

    def _factor_at(self, x: np.ndarray) -> np.ndarray:
        key = np.asarray(x, dtype=float).tobytes()
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, self.evaluator.square_root(x))
        return self._cached[1]

    def residuals(self, x: np.ndarray) -> np.ndarray:
        return self._factor_at(x)[:, -1]

    def jacobian(self, x: np.ndarray, *_) -> np.ndarray:
        return self._factor_at(x)[:, :-1]


def _warning(result, uncertainties: Uncertainties, names, max_iterations: int,
             structure: ResidualStructure, chi2_reduced: float) -> str | None:
    """Why the fit does not count as converged, or None."""
    reasons = [] if structure.passed else [structure.message()]
    if chi2_reduced > CHI2_FAILURE:
        reasons.append(f"reduced chi2 {chi2_reduced:.3g} > {CHI2_FAILURE:g}: more than correlated noise explains, "
                       "the fit is in a wrong minimum or the model does not describe the data")
    if result.status == 0:
        reasons.append(f"iteration limit reached ({max_iterations} function evaluations) before convergence")
    elif result.status < 0:
        reasons.append(f"solver failed: {result.message}")
    if not (np.isfinite(result.fun).all() and np.isfinite(result.x).all()):
        reasons.append("non-finite residuals or parameters at the end of the fit")
    pinned = [f"{n} ({s.removeprefix('at_').removesuffix('_bound')})"
              for n, s in zip(names, uncertainties.status, strict=False) if s.startswith("at_")]
    if pinned:
        reasons.append("parameters pinned at bounds: " + ", ".join(pinned))
    return "; ".join(reasons) or None


def noise_warnings(chi2_reduced: float, names, honest: Uncertainties, independent: Uncertainties) -> list[str]:
    """Warnings when χ²_red or the honest / independent stderr ratio shows correlated noise."""
    warnings = []
    if chi2_reduced > CHI2_WARNING:
        warnings.append(f"reduced chi2 {chi2_reduced:.3g} > {CHI2_WARNING}: the noise is larger or more "
                        "correlated than the estimated sigma describes")
    ratio = honest.stderr / independent.stderr
    large = [f"{name} {value:.3g}x" for name, value in zip(names, ratio, strict=True)
             if np.isfinite(value) and value > RATIO_WARNING]
    if large:
        warnings.append("noise is not independent between points (shared frames): honest stderr / "
                        "independent-noise stderr = " + ", ".join(large))
    return warnings


def _solve(evaluator, x0: np.ndarray, lower, upper, settings: NlsqSettings, max_evaluations: int,
           progress: Progress, label: str):
    """One bounded trust-region fit of the projected problem of ``evaluator`` from ``x0``."""
    compressed = CompressedProblem(evaluator)
    progress.begin(label)
    result = least_squares(
        progress.wrap_residuals(compressed.residuals),
        x0,
        jac=progress.wrap_jacobian(compressed.jacobian),
        bounds=(lower, upper),
        method="trf",
        x_scale="jac",
        max_nfev=max_evaluations,
        ftol=settings.ftol,
        xtol=settings.xtol,
        gtol=settings.gtol,
    )
    progress.end()
    return result


def fit(problem: FitProblem, settings: NlsqSettings, progress: Progress | None = None, threads: int = 1,
        starts: np.ndarray | None = None) -> SolverOutcome:
    """Fit ``problem`` with the ``optimization.nlsq`` settings, the passes in ``threads`` threads.

    The physics θ is searched with the scaling projected out (:mod:`heterodyne.nlsq.projection`)
    from every row of ``starts`` ((K, 14) physics vectors; default: the configured initial
    values): with several, each runs ``COARSE_EVALUATIONS`` evaluations on a subsample of at most
    ``COARSE_POINTS`` points, and the ``REFINED`` best are refined on all points; the lowest cost
    wins, reported in the labelling of the components the configuration asks for
    (:mod:`heterodyne.nlsq.labelling`). The uncertainties are those of the joint problem (physics
    and scaling) at the optimum.
    """
    started = time.perf_counter()
    progress = progress or Progress(enabled=False)
    physics_vary = problem.vary[:N_PHYSICS]
    lower, upper = problem.lower[:N_PHYSICS][physics_vary], problem.upper[:N_PHYSICS][physics_vary]
    starts = problem.initial[None, :N_PHYSICS] if starts is None else np.atleast_2d(starts)
    candidates = np.clip(starts[:, physics_vary], lower, upper)
    coarse_costs = coarse_search(problem, candidates, settings, progress, threads) if len(candidates) > 1 else None
    ranked = [0] if coarse_costs is None else distinct_best(coarse_costs, REFINED)
    evaluator = ProjectedEvaluator(problem, threads)
    results = {}
    for rank, index in enumerate(ranked):
        label = f"refine {rank + 1}/{len(ranked)}" if len(ranked) > 1 else ""
        results[int(index)] = _solve(evaluator, candidates[index], lower, upper, settings,
                                     settings.max_iterations, progress, label)
    best_index = min(results, key=lambda k: results[k].cost if np.isfinite(results[k].cost) else np.inf)
    best = results[best_index]
    optimum = at_optimum(problem, evaluator, best)
    mirrored = preferred_labelling(problem, evaluator, best, optimum, settings, progress)
    if mirrored is not None:
        best, optimum = mirrored, at_optimum(problem, evaluator, mirrored)
    full, chi2_reduced, uncertainties, independent, sandwich, structure = optimum
    names = problem.free_names
    warning = _warning(best, uncertainties, names, settings.max_iterations, structure, chi2_reduced)
    warnings = tuple(noise_warnings(chi2_reduced, names, uncertainties, independent))
    for message in warnings:
        log.warning("nlsq: %s", message)
    n_points = problem.points.size
    return SolverOutcome(
        full=full,
        free_names=names,
        uncertainties=uncertainties,
        independent=independent,
        sandwich=sandwich,
        noise_warnings=warnings,
        cost=float(best.cost),
        chi2_reduced=chi2_reduced,
        n_points=n_points,
        iterations=int(best.njev or 0),
        function_evaluations=int(best.nfev),
        status=int(best.status),
        message=str(best.message),
        converged=warning is None,
        convergence_warning=warning,
        residual_structure=structure,
        start_costs=(float(best.cost),) if coarse_costs is None else tuple(float(c) for c in coarse_costs),
        best_start=best_index,
        wall_time=time.perf_counter() - started,
    )


def at_optimum(problem: FitProblem, evaluator: ProjectedEvaluator, result) -> tuple:
    """(full vector, χ²_red, honest and independent-noise uncertainties, the sandwich's description,
    the residual structure) of the joint problem at the optimum ``result`` of the projected one."""
    full = evaluator.full_vector(result.x)
    x = full[problem.vary]
    chi2_reduced = float(2.0 * result.cost / max(problem.points.size - x.size, 1))
    names = problem.free_names
    lower, upper = problem.lower[problem.vary], problem.upper[problem.vary]
    # JᵀJ of the joint problem from the Gram matrix itself, not from its square root: a parameter
    # without effect keeps its exactly zero column there, and is reported as such
    sums = evaluator.score_sums(result.x, full[N_PHYSICS:])
    jtj = sums.gram[:-1, :-1]
    meat, degrees_of_freedom, sandwich = frame_clustered_meat(sums, chi2_reduced)
    uncertainties = parameter_uncertainties(jtj, chi2_reduced, x, lower, upper, names, meat, degrees_of_freedom)
    independent = parameter_uncertainties(jtj, chi2_reduced, x, lower, upper, names)
    structure = residual_structure(*checked_points(sums.points), problem.q.size, problem.t.size)
    return full, chi2_reduced, uncertainties, independent, sandwich, structure


def checked_points(points: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray,
                                                                                            np.ndarray, np.ndarray]:
    """The points (angle, i, j, r) the residual-structure check reads: all of them, or a fixed
    uniform subsample of ``STRUCTURE_POINTS`` (the check's memory grows with the points)."""
    if points[0].size <= STRUCTURE_POINTS:
        return points
    chosen = random_index(points[0].size, STRUCTURE_POINTS, seed=0)
    angle_index, i, j, residuals = points
    return angle_index[chosen], i[chosen], j[chosen], residuals[chosen]


def preferred_labelling(problem: FitProblem, evaluator: ProjectedEvaluator, best, optimum: tuple,
                        settings: NlsqSettings, progress: Progress):
    """The refined mirror image of ``best`` when ``best`` has the other labelling than the
    configuration asks for and the data cannot tell the two apart (:mod:`heterodyne.nlsq.labelling`);
    None otherwise."""
    configured, t = problem.initial[:N_PHYSICS], problem.t
    full, chi2_reduced, uncertainties, independent = optimum[:4]
    if has_preferred_labelling(full[:N_PHYSICS], configured, t):
        return None
    vary = problem.vary[:N_PHYSICS]
    lower, upper = problem.lower[:N_PHYSICS], problem.upper[:N_PHYSICS]
    mirror = mirror_image(full[:N_PHYSICS], vary, lower, upper, t)
    if mirror is None:
        return None
    result = _solve(evaluator, mirror[vary], lower[vary], upper[vary], settings, settings.max_iterations,
                    progress, "other labelling")
    theta = evaluator.theta(result.x)
    physics = np.array([name in PHYSICS_NAMES for name in problem.free_names])
    ratio = (uncertainties.stderr / independent.stderr)[physics]
    inflation = max(float(np.median(ratio[np.isfinite(ratio)] ** 2)), 1.0) if np.isfinite(ratio).any() else 1.0
    if has_preferred_labelling(theta, configured, t) and indistinguishable(best.cost, result.cost, chi2_reduced,
                                                                           inflation):
        log.info("nlsq: reporting the configured labelling of the components (the mirror image), cost %.6g "
                 "against %.6g", result.cost, best.cost)
        return result
    return None


def coarse_search(problem: FitProblem, candidates: np.ndarray, settings: NlsqSettings, progress: Progress,
                  threads: int) -> np.ndarray:
    """The cost of each candidate start after ``COARSE_EVALUATIONS`` evaluations of the projected
    problem on a seeded subsample of ``COARSE_POINTS`` points; each candidate moves to where its
    search ended."""
    physics_vary = problem.vary[:N_PHYSICS]
    lower, upper = problem.lower[:N_PHYSICS][physics_vary], problem.upper[:N_PHYSICS][physics_vary]
    evaluator = ProjectedEvaluator(subsampled(problem, COARSE_POINTS, settings.seed), threads)
    costs = []
    for k, x0 in enumerate(candidates):
        result = _solve(evaluator, x0, lower, upper, settings, COARSE_EVALUATIONS, progress,
                        f"search {k + 1}/{len(candidates)}")
        candidates[k] = result.x
        costs.append(result.cost if np.isfinite(result.cost) else np.inf)
    return np.array(costs)


def distinct_best(costs: np.ndarray, count: int) -> list[int]:
    """The indices of the ``count`` lowest costs, leaving out any within ``SAME_COST`` (relative)
    of one already taken: starts that ended in the same minimum are refined once."""
    chosen: list[int] = []
    for index in np.argsort(costs, kind="stable"):
        if len(chosen) == count:
            break
        if all(abs(costs[index] - costs[k]) > SAME_COST * abs(costs[k]) for k in chosen):
            chosen.append(int(index))
    return chosen


def subsampled(problem: FitProblem, max_points: int, seed: int) -> FitProblem:
    """``problem`` on a reproducible uniform subsample of at most ``max_points`` of its points."""
    if problem.points.size <= max_points:
        return problem
    chosen = random_index(problem.points.size, max_points, seed)
    return replace(problem, points=problem.points.subset(chosen), sigma=problem.sigma[chosen])
