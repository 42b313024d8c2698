"""Variable projection of the scaling: against the explicit residuals and a brute-force joint fit."""

import dataclasses

import numpy as np
import pytest
from scipy.optimize import least_squares, lsq_linear

from heterodyne import model
from heterodyne.config import parameter_table, resolve_config
from heterodyne.jaxconfig import jax, jnp
from heterodyne.nlsq.problem import make_problem, split_full
from heterodyne.nlsq.projection import ProjectedEvaluator
from heterodyne.nlsq.solve import fit
from heterodyne.parameters import BY_NAME, N_PHYSICS, PHYSICS_NAMES
from heterodyne.points import upper_triangle_points
from heterodyne.scaling import build_scaling

PHI = np.array([-30.0, 10.0, 80.0, 150.0, 200.0])
HELD = ("f2", "f3", "phi0", "D_offset_ref", "D_offset_sample", "v_offset")
NOISE = 0.002


def truth_vector(**values):
    theta = np.array([BY_NAME[name].default for name in PHYSICS_NAMES])
    for name, value in values.items():
        theta[PHYSICS_NAMES.index(name)] = value
    return theta


TRUTH = dict(D0_ref=2e4, D0_sample=6e4, v0=1200.0, f0=0.45)


def model_problem(mode, n_frames=60, contrast=None, held=HELD, seed=0, start=None):
    """A problem on model matrices (contrast 0.2 (1 + 0.1 cos 2φ), offset 1) with Gaussian noise,
    the physics starting at ``start`` (default: the registry's defaults)."""
    t = np.arange(1, n_frames + 1) * 0.006
    q = np.full(PHI.size, 0.009)
    contrast = 0.2 * (1 + 0.1 * np.cos(np.deg2rad(2 * PHI))) if contrast is None else contrast
    truth = truth_vector(**TRUTH)
    c2 = np.asarray(model.c2_grid(jnp.asarray(truth), jnp.asarray(contrast), jnp.ones(PHI.size),
                                  t=jnp.asarray(t), q=jnp.asarray(q), phi=jnp.asarray(PHI)))
    c2 = c2 + NOISE * np.random.default_rng(seed).standard_normal(c2.shape)
    parameters = {name: {"initial": value} for name, value in (start or {}).items()}
    parameters.update({name: {"vary": False} for name in held})
    config = resolve_config({"parameters": parameters, "scaling": {"mode": mode}})
    points = upper_triangle_points(c2)
    problem = make_problem(parameter_table(config), build_scaling(config.scaling, PHI), t=t, q=q, phi=PHI,
                           points=points, sigma=np.full(points.size, NOISE))
    return problem, config


def explicit_residuals(problem, x):
    """r(x) of the joint problem, written out from the model."""
    full = jnp.asarray(problem.initial).at[np.flatnonzero(problem.vary)].set(x)
    theta, c, o = split_full(full, len(problem.scaling.contrast))
    contrast, offset = problem.scaling.values(c, o)
    p = problem.points
    c2 = model.c2_points(theta, contrast, offset, t=problem.t, q=problem.q, phi=problem.phi,
                         angle_index=p.angle_index, i=p.i, j=p.j)
    return (p.value - c2) / problem.sigma


def joint_point(problem, theta, z):
    full = problem.initial.copy()
    full[:N_PHYSICS][problem.vary[:N_PHYSICS]] = theta
    full[N_PHYSICS:] = z
    return full[problem.vary]


@pytest.mark.parametrize("mode", ["individual", "constant", "fourier"])
def test_reduced_gram_is_that_of_the_projected_jacobian_at_the_best_scaling(mode):
    """At z*(θ): Jzᵀr = 0, and the reduced Gram matrix is [P⊥J_θ | r]ᵀ[P⊥J_θ | r] (Kaufman)."""
    problem, _ = model_problem(mode)
    evaluator = ProjectedEvaluator(problem)
    theta = problem.initial[:N_PHYSICS][problem.vary[:N_PHYSICS]] * 1.05
    reduced, z = evaluator.reduced(theta)
    x = joint_point(problem, theta, z)
    jacobian = np.asarray(jax.jacfwd(lambda v: explicit_residuals(problem, v))(x))
    residuals = np.asarray(explicit_residuals(problem, x))
    n = theta.size
    j_theta, j_z = jacobian[:, :n], jacobian[:, n:]
    assert np.abs(j_z.T @ residuals).max() < 1e-10 * np.linalg.norm(j_z) * np.linalg.norm(residuals)
    projected = j_theta - j_z @ np.linalg.lstsq(j_z, j_theta, rcond=None)[0]
    augmented = np.column_stack([projected, residuals])
    expected = augmented.T @ augmented
    np.testing.assert_allclose(reduced, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())
    root = evaluator.square_root(theta)
    np.testing.assert_allclose(root.T @ root, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


def test_best_scaling_respects_the_bounds_like_a_bounded_linear_solve():
    """A contrast upper bound below the data's: z* equals scipy's bounded linear least squares."""
    problem, config = model_problem("individual")
    contrast = dataclasses.replace(config.scaling.contrast, bounds=(0.0, 0.16))  # below the initial 0.5
    config = dataclasses.replace(config, scaling=dataclasses.replace(config.scaling, contrast=contrast))
    problem = make_problem(parameter_table(config), build_scaling(config.scaling, PHI), t=problem.t, q=problem.q,
                           phi=PHI, points=problem.points, sigma=problem.sigma)
    evaluator = ProjectedEvaluator(problem)
    theta = problem.initial[:N_PHYSICS][problem.vary[:N_PHYSICS]]
    z = evaluator.best_scaling(evaluator.angle_grams(theta, evaluator.reference), evaluator.reference)
    n = theta.size
    start = joint_point(problem, theta, np.zeros(2 * PHI.size))
    jacobian = np.asarray(jax.jacfwd(lambda v: explicit_residuals(problem, v))(start))[:, n:]
    residuals = np.asarray(explicit_residuals(problem, start))
    lower, upper = problem.lower[N_PHYSICS:], problem.upper[N_PHYSICS:]
    expected = lsq_linear(jacobian, -residuals, bounds=(lower, upper), method="bvls").x
    assert (z[:PHI.size] == 0.16).sum() >= 3, "the test needs active bounds"
    np.testing.assert_allclose(z, expected, atol=1e-9)


def test_projected_fit_finds_the_optimum_of_a_brute_force_joint_fit():
    """The fit over θ with the scaling projected out, against SciPy on the explicit joint residuals
    over (θ, contrast, offset) from the same start: the same optimum and cost."""
    start = {name: 1.2 * value for name, value in TRUTH.items()}
    problem, config = model_problem("individual", n_frames=40, held=(*HELD, "alpha_ref", "alpha_sample", "beta", "f1"),
                                    start=start)
    theta0 = problem.initial[:N_PHYSICS][problem.vary[:N_PHYSICS]]
    projected = fit(problem, config.optimization.nlsq)
    x0 = joint_point(problem, theta0, np.r_[np.full(PHI.size, 0.5), np.full(PHI.size, 1.0)])
    lower, upper = problem.lower[problem.vary], problem.upper[problem.vary]
    joint = least_squares(lambda v: np.asarray(explicit_residuals(problem, v)), x0,
                          jac=lambda v: np.asarray(jax.jacfwd(lambda w: explicit_residuals(problem, w))(v)),
                          bounds=(lower, upper), method="trf", x_scale="jac", xtol=1e-12, ftol=1e-12, gtol=1e-12)
    assert projected.converged, projected.convergence_warning
    np.testing.assert_allclose(projected.cost, joint.cost, rtol=1e-9)
    # the two solvers stop within their tolerances of the same optimum: far inside its error bars
    difference = np.abs(projected.full[problem.vary] - joint.x)
    assert np.all(difference < 1e-3 * projected.independent.stderr), difference / projected.independent.stderr
