"""The ``nlsq`` section of result.json and the arrays of nlsq.npz, from a finished fit: the
solver's outcome made into an :class:`heterodyne.nlsq.result.NlsqResult`."""

from __future__ import annotations

import numpy as np

from heterodyne.nlsq.problem import FitProblem, split_full
from heterodyne.nlsq.result import NlsqResult
from heterodyne.nlsq.solve import SolverOutcome
from heterodyne.parameters import N_PHYSICS, PHYSICS_NAMES


def nlsq_result(fit: SolverOutcome, problem: FitProblem, noise_info: dict, requested_mode: str,
                start_info: dict | None = None) -> NlsqResult:
    """The fit as it is written: :func:`nlsq_section`, :func:`nlsq_arrays` and the solver's seconds."""
    return NlsqResult(nlsq_section(fit, problem, noise_info, requested_mode, start_info), nlsq_arrays(fit, problem),
                      fit.wall_time)


def per_angle_scaling(fit: SolverOutcome, problem: FitProblem) -> tuple[np.ndarray, np.ndarray]:
    """(contrast, offset) of every selected angle at the optimum."""
    _, contrast_coefficients, offset_coefficients = split_full(fit.full, len(problem.scaling.contrast))
    return problem.scaling.values(contrast_coefficients, offset_coefficients)


def parameter_status(fit: SolverOutcome, problem: FitProblem) -> dict[str, str]:
    """'fixed', 'tied to <target>' or the fit's status ('ok', 'at_lower_bound', 'at_upper_bound',
    'degenerate') per parameter."""
    free = dict(zip(fit.free_names, fit.uncertainties.status, strict=False))
    free.update({name: f"tied to {target}" for name, target in problem.ties.items()})
    return {name: free.get(name, "fixed") for name in problem.names}


def _finite(names, values, ties: dict[str, str]) -> dict[str, float]:
    """{name: value} of the finite values, a tied parameter given its target's."""
    finite = {name: float(value) for name, value in zip(names, values, strict=True) if np.isfinite(value)}
    return {**finite, **{name: finite[target] for name, target in ties.items() if target in finite}}


def start_section(fit: SolverOutcome, start_info: dict | None) -> dict:
    """``.nlsq.multistart``: the candidate starts (label and physics values), their costs after the
    search on the subsample, and the one whose refinement won."""
    section = {"starts": len(fit.start_costs), "costs": fit.start_costs, "best": fit.best_start}
    if start_info is not None:
        section.update(
            start=start_info["mode"],
            labels=list(start_info["labels"]),
            chosen=start_info["labels"][fit.best_start],
            values=[dict(zip(PHYSICS_NAMES, map(float, values), strict=True)) for values in start_info["values"]],
        )
    return section


def nlsq_section(fit: SolverOutcome, problem: FitProblem, noise_info: dict, requested_mode: str,
                 start_info: dict | None = None) -> dict:
    """``.nlsq.<name>`` plain numbers for the 14 physics parameters, then everything else;
    ``start_info`` (mode, labels, values) describes the candidate starts of the search.

    A tied parameter has its target's value, stderr and interval, and status "tied to <target>".
    ``stderr`` is the frame-clustered (honest) one; ``stderr_independent`` assumes independent
    noise per point, and ``stderr_ratio`` = stderr / stderr_independent. ``degrees_of_freedom``
    are those of the honest stderr, and ``q05`` / ``q95`` the bounds of the 90 % Student-t intervals."""
    ties = problem.ties
    stderr_free = _finite(fit.free_names, fit.uncertainties.stderr, ties)
    freedom_free = _finite(fit.free_names, fit.uncertainties.degrees_of_freedom, ties)
    lower, upper = (_finite(fit.free_names, bound, ties)
                    for bound in fit.uncertainties.interval(fit.full[problem.vary]))
    independent_free = _finite(fit.free_names, fit.independent.stderr, ties)
    ratio_free = _finite(fit.free_names, fit.uncertainties.stderr / fit.independent.stderr, ties)
    contrast, offset = per_angle_scaling(fit, problem)
    section: dict = {name: float(fit.full[k]) for k, name in enumerate(PHYSICS_NAMES)}
    section.update(
        stderr={name: stderr_free.get(name) for name in PHYSICS_NAMES},
        stderr_independent={name: independent_free.get(name) for name in PHYSICS_NAMES},
        stderr_ratio={name: ratio_free.get(name) for name in PHYSICS_NAMES},
        degrees_of_freedom={name: freedom_free.get(name) for name in PHYSICS_NAMES},
        q05={name: lower.get(name) for name in PHYSICS_NAMES},
        q95={name: upper.get(name) for name in PHYSICS_NAMES},
        uncertainty=fit.sandwich,
        warnings=list(fit.noise_warnings),
        parameter_status=parameter_status(fit, problem),
        varied=[name for name in fit.free_names if name in PHYSICS_NAMES],
        contrast=contrast,
        offset=offset,
        scaling={
            "mode": problem.scaling.mode,
            "requested_mode": requested_mode,
            "q_groups": [group.as_dict() for group in problem.scaling.groups],
            "coefficients": {name: float(fit.full[N_PHYSICS + k])
                             for k, name in enumerate(problem.names[N_PHYSICS:])},
            "stderr": {name: stderr_free.get(name) for name in problem.names[N_PHYSICS:]},
        },
        chi2_reduced=fit.chi2_reduced,
        cost=fit.cost,
        n_points=fit.n_points,
        n_free=len(fit.free_names),
        converged=fit.converged,
        convergence_warning=fit.convergence_warning,
        residual_structure=fit.residual_structure.as_dict(),
        iterations=fit.iterations,
        function_evaluations=fit.function_evaluations,
        solver="scipy.optimize.least_squares (trf; scaling by variable projection, Kaufman Jacobian from JAX)",
        solver_status=fit.status,
        message=fit.message,
        noise=noise_info,
        condition_number=fit.uncertainties.condition_number,
        weakest_direction=list(fit.uncertainties.weakest_direction),
        multistart=start_section(fit, start_info),
    )
    return section


def nlsq_arrays(fit: SolverOutcome, problem: FitProblem) -> dict[str, np.ndarray]:
    """Plain arrays of nlsq.npz: every parameter, the free ones with covariance, degrees of freedom
    and 90 % Student-t interval bounds (q05, q95), per-angle scaling, and for notebooks the fitted
    matrices ``c2_fitted`` (A, N, N) and the standardised residuals ``c2_residual`` (A, N, N) of
    the fitted points (:mod:`heterodyne.fitted`), float64 as every number of the file."""
    from heterodyne.fitted import model_matrices, residual_matrices

    contrast, offset = per_angle_scaling(fit, problem)
    fitted = model_matrices(fit.full[:N_PHYSICS], contrast, offset, t=problem.t, q=problem.q, phi=problem.phi)
    points = problem.points
    standardised = (points.value - fitted[points.angle_index, points.i, points.j]) / problem.sigma
    lower, upper = fit.uncertainties.interval(fit.full[problem.vary])
    return {
        "names": np.array(problem.names, dtype=str),
        "values": fit.full,
        "vary": problem.vary,
        "free_names": np.array(fit.free_names, dtype=str),
        "free_values": fit.full[problem.vary],
        "stderr": fit.uncertainties.stderr,
        "covariance": fit.uncertainties.covariance,
        "stderr_independent": fit.independent.stderr,
        "covariance_independent": fit.independent.covariance,
        "degrees_of_freedom": fit.uncertainties.degrees_of_freedom,
        "q05": lower,
        "q95": upper,
        "contrast": np.asarray(contrast, dtype=float),
        "offset": np.asarray(offset, dtype=float),
        "q": problem.q,
        "phi": problem.phi,
        "t": problem.t,
        "chi2_reduced": np.float64(fit.chi2_reduced),
        "n_points": np.int64(fit.n_points),
        "c2_fitted": fitted,
        "c2_residual": residual_matrices(standardised, points.angle_index, points.i, points.j, fitted.shape),
    }
