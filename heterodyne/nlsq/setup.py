"""From a resolved config and loaded data to a least-squares problem: points, noise, scaling."""

from __future__ import annotations

import logging

import numpy as np

from heterodyne import noise
from heterodyne.config import AnalysisConfig, parameter_table
from heterodyne.config.tree import NlsqSettings
from heterodyne.errors import HeterodyneError
from heterodyne.nlsq.problem import FitProblem, make_problem
from heterodyne.parameters import PHYSICS_NAMES
from heterodyne.points import random_subset, upper_triangle_points
from heterodyne.scaling import build_scaling

log = logging.getLogger("heterodyne")


def point_sigma(c2: np.ndarray, points, settings: NlsqSettings) -> tuple[np.ndarray, dict]:
    """σ of every point and a description of where it came from.

    uniform: one σ, ``noise_sigma`` from the config or estimated from the data;
    lag_noise: σ(lag) estimated per lag (noise.estimate_sigma_per_lag).
    """
    if settings.weights == "lag_noise":
        per_lag = noise.estimate_sigma_per_lag(c2)
        info = {"weights": "lag_noise", "source": "estimated", "sigma": float(np.median(per_lag))}
        sigma = per_lag[points.lag()]
    else:
        given = settings.noise_sigma
        value = float(given) if given is not None else noise.estimate_sigma(c2)
        info = {"weights": "uniform", "source": "config" if given is not None else "estimated", "sigma": value}
        sigma = np.full(points.size, value)
    if not (np.isfinite(sigma).all() and (sigma > 0).all()):
        raise HeterodyneError(
            "noise level of the data estimated as zero or non-finite; "
            "set optimization.nlsq.noise_sigma to the noise of c2"
        )
    return sigma, info


def warn_if_aliased(table: list[dict], q: np.ndarray, phi: np.ndarray, t: np.ndarray, dt: float) -> None:
    """Warn when q |cos(φ + phi0)| |v| dt > π at the initial parameters: fringes alias (model.md §5)."""
    initial = {row["name"]: row["initial"] for row in table}
    speed = np.abs(initial["v0"] * t ** initial["beta"] + initial["v_offset"]).max()  # model.velocity, in numpy
    projection = np.abs(np.cos(np.deg2rad(phi + initial["phi0"])))
    phase_step = float((q * projection).max() * speed * dt)
    if phase_step > np.pi:
        log.warning("fringes alias between frames at the initial velocity (phase step %.2f rad > π)", phase_step)


def build_problem(config: AnalysisConfig, *, c2: np.ndarray, q: np.ndarray, phi: np.ndarray, t: np.ndarray,
                  dt: float) -> tuple[FitProblem, dict]:
    """The fit problem of ``config`` on the data, and the noise description for the result."""
    settings = config.optimization.nlsq
    points = upper_triangle_points(c2)
    n_all = points.size
    if settings.max_points is not None:
        points = random_subset(points, settings.max_points, settings.seed)
    sigma, noise_info = point_sigma(c2, points, settings)
    noise_info.update(n_points_total=n_all, n_points_used=points.size)
    scaling = build_scaling(config.scaling, phi, q)
    table = parameter_table(config)
    warn_if_aliased(table, q, phi, t, dt)
    problem = make_problem(table, scaling, t=t, q=q, phi=phi, points=points, sigma=sigma)
    n_free = int(problem.vary.sum())
    if n_free == 0:
        raise HeterodyneError("nothing to fit: every parameter has vary: false and scaling.mode is fixed")
    if points.size <= n_free:
        raise HeterodyneError(f"{points.size} data points cannot determine {n_free} free parameters")
    log.debug("fitting %s", ", ".join(n for n in problem.free_names if n in PHYSICS_NAMES))
    return problem, noise_info
