"""The curvature-adjusted CMC likelihood against exact answers, without NUTS: its curvature, the
Bayes rule at the honest scale, the bounds, parameters without an honest covariance, and the order
of the parameters."""

import numpy as np
import pytest

from heterodyne.cmc import geometry
from heterodyne.cmc.calibration import Target, adjustment, honest_to_model, target_from_nlsq
from heterodyne.cmc.posterior import Priors, adjusted_point, log_density, model_arguments
from heterodyne.jaxconfig import jax, jnp


def random_covariance(rng, size, scales):
    root = rng.standard_normal((size, size)) + 2 * np.eye(size)
    correlation = root @ root.T
    correlation /= np.sqrt(np.outer(np.diag(correlation), np.diag(correlation)))
    return correlation * np.outer(scales, scales)


def honest_of(rng, model, inflation):
    """A covariance wider than ``model`` by 1–``inflation`` in sd, in directions other than its own."""
    size = model.shape[0]
    rotation = np.linalg.qr(rng.standard_normal((size, size)))[0]
    stretch = rotation @ np.diag(np.linspace(1.0, inflation, size)) @ rotation.T
    root = np.linalg.cholesky(model)
    return root @ stretch @ stretch.T @ root.T


def nearly_degenerate_covariance(rng, scales):
    """A covariance whose correlation matrix has eigenvalues from 1e-6 to about 5 (parameters that
    trade off, as contrast, offset and the transport do in a fit)."""
    size = scales.size
    rotation = np.linalg.qr(rng.standard_normal((size, size)))[0]
    correlation = rotation @ np.diag(np.geomspace(1e-6, 1.0, size)) @ rotation.T
    correlation /= np.sqrt(np.outer(np.diag(correlation), np.diag(correlation)))
    return correlation * np.outer(scales, scales)


def test_the_map_carries_the_honest_covariance_onto_the_model_one_whatever_the_order():
    rng = np.random.default_rng(0)
    model = nearly_degenerate_covariance(rng, np.array([1e4, 0.3, 1e-3, 20.0, 0.05]))
    honest = honest_of(rng, model, 30.0)
    c = honest_to_model(model, honest)
    # exact in the metric of the model covariance, even along its thinnest direction
    whiten = np.linalg.inv(np.linalg.cholesky(model))
    np.testing.assert_allclose(whiten @ c @ honest @ c.T @ whiten.T, np.eye(5), atol=1e-7)
    whiten_honest = np.linalg.cholesky(honest).T
    np.testing.assert_allclose(whiten_honest @ c.T @ np.linalg.inv(model) @ c @ whiten_honest.T, np.eye(5), atol=1e-6)
    order = rng.permutation(5)
    permuted = honest_to_model(model[np.ix_(order, order)], honest[np.ix_(order, order)])
    np.testing.assert_allclose(permuted, c[np.ix_(order, order)], rtol=1e-9, atol=1e-15)
    # a Cholesky-based map (the draws' stretch this replaced) changes with the order
    cholesky = np.linalg.cholesky(model) @ np.linalg.inv(np.linalg.cholesky(honest))
    permuted_cholesky = (np.linalg.cholesky(model[np.ix_(order, order)])
                         @ np.linalg.inv(np.linalg.cholesky(honest[np.ix_(order, order)])))
    assert not np.allclose(permuted_cholesky, cholesky[np.ix_(order, order)], rtol=1e-3)


def test_the_adjustment_in_u_does_not_depend_on_the_order_and_keeps_the_curvature_identity():
    rng = np.random.default_rng(1)
    lower, upper = np.array([0.0, -5.0, 1.0, 0.0]), np.array([1.0, 5.0, 1e5, 2.0])
    center = np.array([0.3, 1.0, 2e4, 0.02])
    model = random_covariance(rng, 4, np.array([1e-3, 0.01, 50.0, 1e-4]))
    honest = honest_of(rng, model, 20.0)
    geo = geometry.whitening(center, honest, lower, upper, 1.0)
    adjusted = adjustment(Target(model, honest, center), geo)
    fraction = 1 / (1 + np.exp(-adjusted.anchor_u))
    jacobian = np.diag((upper - lower) * fraction * (1 - fraction))  # dx/du at û
    curvature_u = jacobian @ np.linalg.inv(model) @ jacobian
    honest_u = np.linalg.inv(jacobian) @ honest @ np.linalg.inv(jacobian)
    np.testing.assert_allclose(adjusted.matrix.T @ curvature_u @ adjusted.matrix, np.linalg.inv(honest_u), rtol=1e-6)
    order = np.array([2, 0, 3, 1])
    block = np.ix_(order, order)
    permuted_geo = geometry.whitening(center[order], honest[block], lower[order], upper[order], 1.0)
    permuted = adjustment(Target(model[block], honest[block], center[order]), permuted_geo)
    np.testing.assert_allclose(permuted.matrix, adjusted.matrix[block], rtol=1e-9, atol=1e-14)


@pytest.fixture(scope="module")
def noise_free_problem():
    """Three free physics parameters on noise-free data at the truth: the residuals are 0, so the
    Hessian of −½ Σ r² is exactly −JᵀJ there."""
    from nlsq_helpers import fit_config

    from heterodyne.model import c2_grid
    from heterodyne.nlsq.problem import weighted_residuals
    from heterodyne.nlsq.setup import build_problem
    from heterodyne.parameters import PHYSICS_PARAMETERS

    varying = {"D0_ref": 2e4, "v0": 1000.0, "f0": 0.4}
    fixed = {p.name: p.default for p in PHYSICS_PARAMETERS if p.name not in varying}
    config = fit_config(varying, fixed, scaling={"mode": "fixed", "contrast": {"initial": 0.1},
                                                 "offset": {"initial": 1.0}},
                        optimization={"nlsq": {"noise_sigma": 0.01}})
    q, phi, t = np.full(3, 0.009), np.array([0.0, 45.0, 90.0]), np.arange(1, 31) * 0.05
    truth = np.array([p.default for p in PHYSICS_PARAMETERS])
    names = [p.name for p in PHYSICS_PARAMETERS]
    for name, value in varying.items():
        truth[names.index(name)] = value
    c2 = np.asarray(c2_grid(jnp.asarray(truth), jnp.full(3, 0.1), jnp.ones(3), t=jnp.asarray(t), q=jnp.asarray(q),
                            phi=jnp.asarray(phi)))
    problem, _ = build_problem(config, c2=c2, q=q, phi=phi, t=t, dt=0.05)
    x_hat = problem.initial[problem.vary]
    lower, upper = problem.lower[problem.vary], problem.upper[problem.vary]
    uniform = Priors(np.zeros(3, np.int64), np.zeros(3), np.ones(3))
    geo = geometry.unit_geometry(x_hat, lower, upper)
    constants, data = model_arguments(problem, geo, adjustment(Target(*[np.full((3, 3), np.nan)] * 2, x_hat), geo),
                                      uniform, (1.0, 1.0), problem.points.size)
    n_contrast = len(problem.scaling.contrast)
    jacobian = jax.jacfwd(lambda x: weighted_residuals(x, constants.problem, *data, n_contrast=n_contrast))(
        jnp.asarray(x_hat))
    model = np.linalg.inv(np.asarray(jacobian.T @ jacobian))
    return problem, x_hat, model, honest_of(np.random.default_rng(2), model, 25.0)


def log_likelihood_and_posterior(problem, target, priors):
    """(−½ Σ r²(x_adj(z)), log posterior density of x at x(z)) in the sampler's coordinates of ``target``."""
    from heterodyne.nlsq.problem import weighted_residuals

    vary = problem.vary
    geo = geometry.whitening(target.center, target.honest, problem.lower[vary], problem.upper[vary], 1.0)
    constants, data = model_arguments(problem, geo, adjustment(target, geo), priors, (1.0, 1.0), problem.points.size)
    n_contrast = len(problem.scaling.contrast)
    arrays = [jnp.asarray(a) for a in (geo.center, geo.factor, geo.lower, geo.upper)]

    def likelihood(z):
        x = geometry.parameters_of(z, *arrays)
        residuals = weighted_residuals(adjusted_point(z, x, constants), constants.problem, *data, n_contrast=n_contrast)
        return -0.5 * residuals @ residuals

    def posterior(z):
        return log_density(z, constants, data, n_contrast=n_contrast) - geometry.log_abs_jacobian(z, *arrays)

    return likelihood, posterior, geo


def test_in_the_sampler_coordinates_the_adjusted_likelihood_has_unit_curvature(noise_free_problem):
    """Whitened by Σ_honest, the adjusted likelihood's Hessian at the optimum is −I: its curvature
    is Σ_honest⁻¹. Without the adjustment it is −Lᵀ H L, 25² times larger in one direction."""
    problem, x_hat, model, honest = noise_free_problem
    likelihood, _, _ = log_likelihood_and_posterior(problem, Target(model, honest, x_hat), Priors(*[np.zeros(3)] * 3))
    hessian = np.asarray(jax.hessian(likelihood)(jnp.zeros(3)))
    np.testing.assert_allclose(hessian, -np.eye(3), atol=2e-6)
    unadjusted, _, _ = log_likelihood_and_posterior(problem, Target(model, model, x_hat), Priors(*[np.zeros(3)] * 3))
    whitened_honest = geometry.whitening(x_hat, honest, problem.lower[problem.vary], problem.upper[problem.vary], 1.0)
    jacobian = geometry.gaussian_jacobian(np.zeros(3), whitened_honest)
    assert np.linalg.eigvalsh(jacobian.T @ np.linalg.inv(model) @ jacobian)[-1] > 500
    assert np.allclose(np.asarray(jax.hessian(unadjusted)(jnp.zeros(3))), -np.eye(3), atol=2e-6)


def test_a_normal_prior_shrinks_the_posterior_as_the_honest_scale_bayes_rule_says(noise_free_problem):
    """Prior N(x̂_v + σ_v, σ_v²) on v0 (σ_v its honest sd): the posterior mode is Bayes' rule with
    the likelihood N(x̂, Σ_honest), x̂ + Σ_honest e_v / (2 σ_v); the model-scale likelihood would
    move it by about 1/25 of that."""
    from scipy.optimize import minimize

    problem, x_hat, model, honest = noise_free_problem
    sd = np.sqrt(np.diag(honest))
    prior = Priors(np.array([0, 1, 0]), np.array([0.0, x_hat[1] + sd[1], 0.0]), np.array([1.0, sd[1], 1.0]))
    _, posterior, geo = log_likelihood_and_posterior(problem, Target(model, honest, x_hat), prior)
    value_and_gradient = jax.jit(jax.value_and_grad(lambda z: -posterior(z)))
    found = minimize(lambda z: [np.asarray(v, float) for v in value_and_gradient(jnp.asarray(z))], np.zeros(3),
                     jac=True, method="BFGS", options={"gtol": 1e-9})
    mode = geometry.parameters_from(found.x, geo)
    expected = x_hat + honest[:, 1] / (2 * sd[1])
    np.testing.assert_allclose((mode - expected) / sd, 0.0, atol=0.05)
    assert abs(mode[1] - x_hat[1]) > 0.4 * sd[1]


def test_every_adjusted_point_is_inside_the_bounds_and_unknown_parameters_are_inflated(noise_free_problem):
    """f0 without an honest covariance (as at a bound): adjusted in θ towards x̂ by c = κ^-½, κ the
    largest variance inflation of the other parameters; every adjusted point, however far z goes,
    lies inside the bounds."""
    problem, x_hat, model, honest = noise_free_problem
    vary = problem.vary
    lower, upper = problem.lower[vary], problem.upper[vary]
    honest_without = honest.copy()
    honest_without[2, :] = honest_without[:, 2] = np.nan
    target = Target(model, honest_without, x_hat)
    geo = geometry.whitening(x_hat, honest_without, lower, upper, 1.0)
    adjusted = adjustment(target, geo)
    block = np.ix_([0, 1], [0, 1])
    root = np.linalg.inv(np.linalg.cholesky(model[block]))
    kappa = np.linalg.eigvalsh(root @ honest[block] @ root.T)[-1]
    assert adjusted.in_u.tolist() == [True, True, False]
    assert adjusted.contraction[2] == pytest.approx(kappa ** -0.5, rel=1e-9) and kappa > 100
    record = adjusted.record(("D0_ref", "v0", "f0"), target)
    assert record["adjusted"] == ["D0_ref", "v0"] and record["inflated"] == ["f0"]
    assert record["inflation_sd_ratio"] == pytest.approx(kappa ** 0.5) and record["sd_ratio"]["f0"] is None
    uniform = Priors(np.zeros(3, np.int64), np.zeros(3), np.ones(3))
    constants, _ = model_arguments(problem, geo, adjusted, uniform, (1.0, 1.0), problem.points.size)
    arrays = [jnp.asarray(a) for a in (geo.center, geo.factor, geo.lower, geo.upper)]
    z = jnp.asarray(40.0 * np.random.default_rng(3).standard_normal((500, 3)))
    x = geometry.parameters_of(z, *arrays)
    points = np.asarray(jax.vmap(lambda zz, xx: adjusted_point(zz, xx, constants))(z, x))
    assert np.all((points >= lower) & (points <= upper))
    np.testing.assert_allclose(points[:, 2] - x_hat[2], adjusted.contraction[2] * (np.asarray(x)[:, 2] - x_hat[2]),
                               rtol=1e-12, atol=1e-15)


def test_without_any_honest_covariance_nothing_is_adjusted():
    nan = np.full((2, 2), np.nan)
    geo = geometry.unit_geometry(np.array([0.5, 0.5]), np.zeros(2), np.ones(2))
    adjusted = adjustment(Target(nan, nan, np.array([0.5, 0.5])), geo)
    assert not adjusted.in_u.any() and np.all(adjusted.contraction == 1.0)
    assert adjusted.record(("a", "b"), Target(nan, nan, np.zeros(2)))["inflated"] == []


def test_target_from_nlsq_is_the_likelihood_curvature_on_the_cmc_points_and_the_t_widened_sandwich():
    from scipy import stats

    independent = np.array([[4.0, 1.0], [1.0, 2.0]])
    arrays = {"chi2_reduced": np.float64(2.0), "n_points": np.int64(500), "free_values": np.array([1.0, 2.0]),
              "covariance_independent": independent, "covariance": 3 * independent,
              "degrees_of_freedom": np.array([3.0, np.nan])}
    target = target_from_nlsq(arrays, n_points=1000)
    # H⁻¹ = covariance_independent / χ²_red, and H doubles with twice the points
    np.testing.assert_allclose(target.model, independent / 4.0)
    np.testing.assert_allclose(target.center, [1.0, 2.0])
    # the sandwich widened to its 90 % t interval: ±1.645 sd of the target = ±t_3(0.95) stderr
    np.testing.assert_allclose(1.6449 * np.sqrt(target.honest[0, 0]), stats.t.ppf(0.95, 3) * np.sqrt(12.0), rtol=1e-4)
    np.testing.assert_allclose(target.honest[1, 1], 6.0)  # no degrees of freedom reported: not widened
    correlation = target.honest[0, 1] / np.sqrt(target.honest[0, 0] * target.honest[1, 1])
    np.testing.assert_allclose(correlation, 1.0 / np.sqrt(8.0))  # the correlations are the sandwich's
