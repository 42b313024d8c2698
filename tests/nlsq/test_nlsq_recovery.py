"""Parameter recovery by the joint multi-angle NLSQ fit on simulated data with known truth."""

import numpy as np
import pytest
from nlsq_helpers import fit_config, run_fit, simulate, truth_scaling

from heterodyne.config import resolve_config
from heterodyne.points import upper_triangle_points

NOISE = 0.002
N_FRAMES = 120

# Each case: the truth, and which parameters vary (with their starting values); the rest are
# held at the truth. The cases differ in which physics is switched on.
CASES = {
    "stationary_flow": (
        dict(D0_ref=2e4, D0_sample=8e4, v0=1200.0, f0=0.3),
        dict(D0_ref=3e4, D0_sample=5e4, v0=1100.0, f0=0.4),
    ),
    "ageing_and_accelerating": (
        dict(D0_ref=2e4, alpha_ref=-0.3, D0_sample=6e4, alpha_sample=0.4, v0=1000.0, beta=0.3, f0=0.3),
        dict(D0_ref=3e4, alpha_ref=0.0, D0_sample=5e4, alpha_sample=0.0, v0=900.0, beta=0.0, f0=0.4),
    ),
    "time_varying_fraction": (
        dict(D0_ref=2e4, D0_sample=6e4, v0=1000.0, f0=0.2, f1=0.8, f3=0.1),
        dict(D0_ref=3e4, D0_sample=5e4, v0=950.0, f0=0.3, f1=0.0, f3=0.05),
    ),
}


def full_truth(changed: dict) -> dict:
    from heterodyne.parameters import PHYSICS_PARAMETERS

    truth = {p.name: p.default for p in PHYSICS_PARAMETERS}
    truth.update(changed)
    return truth


@pytest.mark.parametrize("case", sorted(CASES))
def test_recovers_truth_within_three_standard_errors(tmp_path, case):
    changed, start = CASES[case]
    truth = full_truth(changed)
    path, _ = simulate(tmp_path, changed, n_frames=N_FRAMES, noise_sigma=NOISE, seed=11)
    fixed = {name: value for name, value in truth.items() if name not in start}
    config = fit_config(start, fixed, optimization={"nlsq": {"noise_sigma": NOISE}},
                        scaling={"contrast": {"initial": 0.1}})
    section, result, _ = run_fit(path, config)
    assert result.converged, result.convergence_warning
    for name in start:
        error = section["stderr"][name]
        assert error is not None and error > 0, name
        assert abs(section[name] - truth[name]) <= 3 * error, (name, section[name], truth[name], error)
    # the truth's c2 is reproduced down to the simulated noise
    assert abs(section["chi2_reduced"] - 1.0) <= 0.1


def test_individual_contrast_does_not_bias_physics(tmp_path):
    changed, start = CASES["stationary_flow"]
    truth = full_truth(changed)
    path, truth_document = simulate(tmp_path, changed, n_frames=N_FRAMES, noise_sigma=NOISE, seed=5,
                                    contrast_anisotropy=0.3)
    contrast, offset = truth_scaling(truth_document)
    assert np.ptp(contrast) > 0.05  # the angles really differ
    fixed = {name: value for name, value in truth.items() if name not in start}
    settings = {"nlsq": {"noise_sigma": NOISE}}
    free = fit_config(start, fixed, optimization=settings,
                      scaling={"mode": "individual", "contrast": {"initial": 0.1}})
    pinned = fit_config(start, fixed, optimization=settings,
                        scaling={"mode": "fixed", "contrast": {"initial": contrast.tolist()},
                                 "offset": {"initial": offset.tolist()}})
    free_section, _, _ = run_fit(path, free)
    pinned_section, _, _ = run_fit(path, pinned)
    np.testing.assert_allclose(free_section["contrast"], contrast, atol=4 * NOISE)
    np.testing.assert_allclose(free_section["offset"], offset, atol=4 * NOISE)
    for name in start:
        # freeing the scaling widens the error bars but must not move the estimates
        assert abs(free_section[name] - pinned_section[name]) <= free_section["stderr"][name], name
        assert free_section["stderr"][name] >= 0.99 * pinned_section["stderr"][name], name


def test_parameter_without_effect_is_reported_degenerate(tmp_path):
    """With f1 = 0, f2 has no effect on c2 (model.md §5): no error bar, and no harm to the rest."""
    changed, start = CASES["stationary_flow"]
    truth = full_truth(changed)
    path, _ = simulate(tmp_path, changed, n_frames=60, noise_sigma=NOISE, seed=2)
    start = dict(start, f2=5.0)
    fixed = {name: value for name, value in truth.items() if name not in start}
    section, result, _ = run_fit(path, fit_config(start, fixed, optimization={"nlsq": {"noise_sigma": NOISE}}))
    assert section["parameter_status"]["f2"] == "degenerate"
    assert section["stderr"]["f2"] is None
    assert section["weakest_direction"] == ["f2"]
    for name in ("D0_ref", "D0_sample", "v0", "f0"):
        assert section["parameter_status"][name] == "ok"
        assert abs(section[name] - truth[name]) <= 3 * section["stderr"][name], name


def test_lag_noise_weights_estimate_the_simulated_noise(tmp_path):
    changed, start = CASES["stationary_flow"]
    truth = full_truth(changed)
    path, _ = simulate(tmp_path, changed, n_frames=N_FRAMES, noise_sigma=NOISE, seed=8)
    fixed = {name: value for name, value in truth.items() if name not in start}
    config = fit_config(start, fixed, optimization={"nlsq": {"weights": "lag_noise"}})
    section, result, problem = run_fit(path, config)
    assert section["noise"]["weights"] == "lag_noise"
    assert abs(section["noise"]["sigma"] - NOISE) / NOISE < 0.1
    assert abs(section["chi2_reduced"] - 1.0) <= 0.15
    lags = upper_triangle_points(np.zeros((1, N_FRAMES, N_FRAMES))).lag()
    assert problem.sigma.shape == (3 * lags.size,)


@pytest.mark.parametrize("mode, anisotropy, order", [("constant", 0.0, 1), ("fourier", 0.1, 2)])
def test_constrained_scaling_over_many_angles(tmp_path, mode, anisotropy, order):
    """Seven angles with one shared contrast (constant) or a contrast ∝ 1 + a cos 2φ (fourier,
    order 2): the constrained scaling recovers the per-angle contrasts and the physics."""
    changed, start = CASES["stationary_flow"]
    truth = full_truth(changed)
    path, truth_document = simulate(tmp_path, changed, n_frames=N_FRAMES, noise_sigma=NOISE, seed=9,
                                    contrast_anisotropy=anisotropy)
    fixed = {name: value for name, value in truth.items() if name not in start}
    config = fit_config(start, fixed, optimization={"nlsq": {"noise_sigma": NOISE}},
                        scaling={"mode": mode, "fourier_order": order, "contrast": {"initial": 0.1}})
    config = resolve_config(config.as_dict(), overrides={"experimental_data.phi": None})  # every angle at q 0.009
    section, result, problem = run_fit(path, config)
    assert result.converged, result.convergence_warning
    assert problem.phi.size == 7 and section["scaling"]["mode"] == mode
    expected = {b["phi"]: b["contrast"] for b in truth_document["bins"] if b["q"] == 0.009}
    np.testing.assert_allclose(section["contrast"], [expected[phi] for phi in problem.phi], atol=3e-3)
    for name in start:
        assert abs(section[name] - truth[name]) <= 3 * section["stderr"][name], name
    assert abs(section["chi2_reduced"] - 1.0) <= 0.1
