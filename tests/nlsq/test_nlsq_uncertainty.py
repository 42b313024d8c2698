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


def test_sandwich_is_never_below_the_independent_noise_covariance_in_any_direction():
    """With H = JᵀJ and independent-noise covariance C = χ² H⁻¹: a meat M = c χ² H gives
    H⁻¹ M H⁻¹ = c C; below c = 1 the floor returns C itself, above it the sandwich, and a meat
    larger along one eigen-direction only keeps that direction and raises the other."""
    rng = np.random.default_rng(3)
    jacobian = rng.standard_normal((200, 2)) * [3.0, 0.2]
    jtj = jacobian.T @ jacobian
    chi2 = 1.7
    x, lower, upper, names = np.zeros(2), np.full(2, -10.0), np.full(2, 10.0), ("a", "b")
    independent = parameter_uncertainties(jtj, chi2, x, lower, upper, names).covariance
    for factor, expected in ((0.3, independent), (4.0, 4.0 * independent)):
        floored = parameter_uncertainties(jtj, chi2, x, lower, upper, names, meat=factor * chi2 * jtj).covariance
        np.testing.assert_allclose(floored, expected, rtol=1e-10)
    # along H⁻¹'s eigenvectors (scaled coordinates): meat 9× along one, 0.25× along the other
    scale = np.sqrt(np.diag(jtj))
    values, vectors = np.linalg.eigh(jtj / np.outer(scale, scale))
    meat = np.outer(scale, scale) * (vectors @ np.diag(chi2 * values * [9.0, 0.25]) @ vectors.T)
    covariance = parameter_uncertainties(jtj, chi2, x, lower, upper, names, meat=meat).covariance
    in_basis = vectors.T @ (covariance * np.outer(scale, scale)) @ vectors
    np.testing.assert_allclose(in_basis, np.diag(chi2 / values * [9.0, 1.0]), rtol=1e-10, atol=1e-14)


def test_intervals_use_student_t_quantiles_of_the_degrees_of_freedom():
    """90 % intervals x ∓ t_ν(0.95) · stderr: t₁(0.95) = tan(0.45π) (Cauchy), t₂(0.95) = 0.9/√0.095;
    without degrees of freedom (independent noise) the normal 1.6449; none where the stderr is not
    reportable."""
    rng = np.random.default_rng(5)
    jacobian = rng.normal(size=(200, 3))
    jtj = jacobian.T @ jacobian
    x = np.array([1.0, 2.0, UPPER[2]])
    honest = parameter_uncertainties(jtj, 1.0, x, LOWER, UPPER, NAMES, meat=2.0 * jtj,
                                     degrees_of_freedom=np.array([1.0, 2.0, 3.0]))
    lower, upper = honest.interval(x)
    half = np.array([np.tan(0.45 * np.pi), 0.9 / np.sqrt(0.095)]) * honest.stderr[:2]
    np.testing.assert_allclose(lower[:2], x[:2] - half, rtol=1e-10)
    np.testing.assert_allclose(upper[:2], x[:2] + half, rtol=1e-10)
    assert np.isnan(honest.degrees_of_freedom[2]) and np.isnan(lower[2]) and np.isnan(upper[2])
    independent = parameter_uncertainties(jtj, 1.0, x, LOWER, UPPER, NAMES)
    np.testing.assert_allclose(independent.interval(x)[1][:2] - x[:2], 1.6448536 * independent.stderr[:2],
                               rtol=1e-6)
