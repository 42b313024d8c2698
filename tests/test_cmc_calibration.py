"""The open-faced sandwich adjustment against exactly known covariances."""

import numpy as np

from heterodyne.cmc.calibration import Target, adjust, target_from_nlsq


def test_adjusted_draws_have_the_honest_covariance_and_keep_the_mean():
    rng = np.random.default_rng(0)
    model = np.array([[2.0, 0.6, 0.1], [0.6, 1.0, -0.2], [0.1, -0.2, 0.5]])
    honest = np.array([[8.0, 1.0, 0.0], [1.0, 3.0, 0.4], [0.0, 0.4, 4.0]])
    draws = rng.multivariate_normal([1.0, -2.0, 3.0], model, size=(2, 50_000))
    adjusted, description = adjust(draws, Target(model=model, honest=honest))
    flat, adjusted_flat = draws.reshape(-1, 3), adjusted.reshape(-1, 3)
    np.testing.assert_allclose(adjusted_flat.mean(axis=0), flat.mean(axis=0), rtol=1e-12)
    # Ω maps the sample covariance exactly: Ω Ĉ Ωᵀ, with Ĉ → model, equals honest up to sampling
    np.testing.assert_allclose(np.cov(adjusted_flat, rowvar=False), honest, atol=0.06 * honest.max())
    omega = np.linalg.cholesky(honest) @ np.linalg.inv(np.linalg.cholesky(model))
    np.testing.assert_allclose(adjusted_flat - flat.mean(axis=0), (flat - flat.mean(axis=0)) @ omega.T, atol=1e-10)
    np.testing.assert_allclose(description["factor"], np.sqrt(np.diag(honest) / np.diag(model)), rtol=1e-12)
    assert description["adjusted"] == [True, True, True]
    assert adjusted.shape == draws.shape


def test_parameters_without_an_honest_covariance_keep_their_draws():
    rng = np.random.default_rng(1)
    model = np.diag([1.0, 4.0])
    honest = np.array([[9.0, np.nan], [np.nan, np.nan]])
    draws = rng.normal(size=(1, 1000, 2)) * [1.0, 2.0]
    adjusted, description = adjust(draws, Target(model=model, honest=honest))
    np.testing.assert_allclose(adjusted[..., 1], draws[..., 1], rtol=1e-12)
    centred = draws[..., 0] - draws[..., 0].mean()
    np.testing.assert_allclose(adjusted[..., 0] - draws[..., 0].mean(), 3.0 * centred, rtol=1e-12)
    assert description["adjusted"] == [True, False] and description["factor"] == [3.0, 1.0]


def test_target_from_nlsq_is_the_likelihood_curvature_on_the_cmc_points():
    independent = np.array([[4.0, 1.0], [1.0, 2.0]])
    arrays = {"chi2_reduced": np.float64(2.0), "n_points": np.int64(500),
              "covariance_independent": independent, "covariance": 3 * independent}
    target = target_from_nlsq(arrays, n_points=1000)
    # H⁻¹ = covariance_independent / χ²_red, and H doubles with twice the points
    np.testing.assert_allclose(target.model, independent / 4.0)
    np.testing.assert_allclose(target.honest, 3 * independent)
