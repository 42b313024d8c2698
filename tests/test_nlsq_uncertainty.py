"""Standard errors and degeneracy reports against closed forms on synthetic Jacobians."""

import numpy as np

from heterodyne.nlsq.uncertainty import parameter_uncertainties

NAMES = ("a", "b", "c")
LOWER = np.array([-10.0, -10.0, -10.0])
UPPER = np.array([10.0, 10.0, 10.0])


def test_orthogonal_columns_give_closed_form_errors():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(500, 3)))
    norms = np.array([2.0, 0.5, 30.0])
    jacobian = q * norms
    result = parameter_uncertainties(jacobian.T @ jacobian, 1.7, np.zeros(3), LOWER, UPPER, NAMES)
    # cov = χ²_red (JᵀJ)⁻¹ = χ²_red diag(1/‖J_k‖²) for orthogonal columns
    np.testing.assert_allclose(result.stderr, np.sqrt(1.7) / norms, rtol=1e-12)
    assert result.status == ("ok", "ok", "ok")
    np.testing.assert_allclose(result.condition_number, 1.0, rtol=1e-9)


def test_correlated_columns_match_the_inverse():
    rng = np.random.default_rng(1)
    jacobian = rng.normal(size=(400, 3)) @ np.array([[1.0, 0.9, 0.0], [0.0, 0.4, 0.3], [0.0, 0.0, 2.0]])
    result = parameter_uncertainties(jacobian.T @ jacobian, 0.8, np.zeros(3), LOWER, UPPER, NAMES)
    expected = 0.8 * np.linalg.inv(jacobian.T @ jacobian)
    np.testing.assert_allclose(result.covariance, expected, rtol=1e-10)


def test_proportional_columns_are_degenerate_not_tiny_or_huge():
    rng = np.random.default_rng(2)
    base = rng.normal(size=(300, 2))
    jacobian = np.column_stack([base[:, 0], 3.0 * base[:, 0], base[:, 1]])
    result = parameter_uncertainties(jacobian.T @ jacobian, 1.0, np.zeros(3), LOWER, UPPER, NAMES)
    assert result.status == ("degenerate", "degenerate", "ok")
    assert np.isnan(result.stderr[:2]).all()
    assert set(result.weakest_direction) == {"a", "b"}
    # the identifiable parameter keeps the error bar it would have on its own
    projected = base[:, 1] - base[:, 0] * (base[:, 0] @ base[:, 1]) / (base[:, 0] @ base[:, 0])
    np.testing.assert_allclose(result.stderr[2], 1.0 / np.linalg.norm(projected), rtol=1e-6)


def test_parameter_at_bound_is_flagged_and_left_out():
    rng = np.random.default_rng(3)
    jacobian = rng.normal(size=(200, 3))
    x = np.array([LOWER[0], 0.0, UPPER[2]])
    result = parameter_uncertainties(jacobian.T @ jacobian, 1.0, x, LOWER, UPPER, NAMES)
    assert result.status == ("at_lower_bound", "ok", "at_upper_bound")
    assert np.isnan(result.stderr[[0, 2]]).all()
    np.testing.assert_allclose(result.stderr[1], 1.0 / np.linalg.norm(jacobian[:, 1]), rtol=1e-12)
