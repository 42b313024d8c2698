"""The residual-structure check (heterodyne/nlsq/goodness.py): quiet on the true model whatever the
noise (independent, frame-correlated speckle, the APS correlator's file), firing on wrong models;
its dyadic variance against a brute-force sum over pairs."""

import json

import numpy as np
import pytest

from heterodyne.data import load_file
from heterodyne.jaxconfig import jax, jnp
from heterodyne.model import c2_grid
from heterodyne.nlsq.goodness import FALSE_ALARM, dyadic_variance, lag_band_edges, residual_structure
from heterodyne.noise import estimate_sigma
from heterodyne.parameters import PHYSICS_NAMES
from heterodyne.simulation import SimulationSpec, simulate_dataset

SEEDS = (0, 1, 2, 3)
_grid = jax.jit(c2_grid)


def weighted_residuals(data, params):
    """Points of the strict upper triangle and (c2 − model)/σ, contrast and offset of each bin by
    linear least squares at the given physics parameters, σ from heterodyne.noise.estimate_sigma."""
    theta = jnp.asarray([params[name] for name in PHYSICS_NAMES])
    n_angles, n_frames = data.c2.shape[:2]
    correlation = np.asarray(_grid(theta, jnp.ones(n_angles), jnp.zeros(n_angles), t=jnp.asarray(data.times),
                                   q=jnp.asarray(data.q), phi=jnp.asarray(data.phi)))
    i, j = np.triu_indices(n_frames, 1)
    sigma = estimate_sigma(data.c2)
    residuals = []
    for angle in range(n_angles):
        design = np.stack([correlation[angle, i, j], np.ones(i.size)], axis=1)
        y = data.c2[angle, i, j]
        coefficients = np.linalg.lstsq(design, y, rcond=None)[0]
        residuals.append((y - design @ coefficients) / sigma)
    angle_index = np.repeat(np.arange(n_angles), i.size)
    r = np.concatenate(residuals)
    return angle_index, np.tile(i, n_angles), np.tile(j, n_angles), r, float(np.mean(r * r))


def check(data, params):
    angle_index, i, j, r, chi2_red = weighted_residuals(data, params)
    return residual_structure(angle_index, i, j, r, data.c2.shape[0], data.c2.shape[1]), chi2_red


def simulated(tmp_path, noise, seed, n_frames=100, n_angles=3):
    extra = {"pixels_per_bin": 2000, "speckle_modes": 4, "counts_per_pixel": 10.0} if noise == "speckle" else {}
    spec = SimulationSpec(noise=noise, n_frames=n_frames, q_centres=(0.02,), phi_centres=(0.0, 45.0, 90.0)[:n_angles],
                          empty_cells=(), processed_q_rows=(0,), seed=seed, params={"v0": 300.0}, **extra)
    path = tmp_path / f"{noise}_{seed}_{n_frames}_{n_angles}.h5"
    simulate_dataset(path, spec)
    return load_file(path), spec.truth_params()


def changed(params, name, value):
    return {**params, name: value}


@pytest.mark.parametrize("noise", ["independent", "speckle"])
def test_quiet_on_the_true_model(tmp_path, noise):
    for seed in SEEDS:
        data, truth = simulated(tmp_path, noise, seed)
        result, chi2_red = check(data, truth)
        assert result.passed, (seed, result.message())
        assert result.n_tests > 10 and result.false_alarm == FALSE_ALARM
        if noise == "speckle":  # frame-correlated noise: chi2_red far above 1, blocks of many frames
            assert chi2_red > 1.5 and result.block_frames > 5, (chi2_red, result.block_frames)
        else:
            assert chi2_red < 1.1 and result.block_frames <= 2, (chi2_red, result.block_frames)


def test_quiet_on_the_correlator_file_at_its_truth(correlator_file):
    truth = json.loads(correlator_file.with_name("hetflow_a0001_truth.json").read_text())["params"]
    data = load_file(correlator_file, q=0.015)
    result, chi2_red = check(data, truth)
    assert chi2_red > 1.5
    assert result.passed, result.message()


@pytest.mark.parametrize(
    ("name", "factor", "shift"),
    [("v0", 0.8, 0.0), ("D0_sample", 2.0, 0.0), ("f0", 1.0, 0.2), ("v0", 0.95, 0.0)],
)
def test_fires_on_wrong_models_with_independent_noise(tmp_path, name, factor, shift):
    for seed in SEEDS[:2]:
        data, truth = simulated(tmp_path, "independent", seed)
        result, chi2_red = check(data, changed(truth, name, truth[name] * factor + shift))
        assert not result.passed, (seed, chi2_red, result.message())
        assert "FAILED" in result.message()
        if name == "v0" and factor == 0.95:  # chi2_red alone would call this fit good
            assert chi2_red <= 1.1, chi2_red


def test_fires_on_small_data(tmp_path):
    for seed in SEEDS[:2]:
        data, truth = simulated(tmp_path, "independent", seed, n_frames=50, n_angles=1)
        assert check(data, truth)[0].passed
        result, _ = check(data, changed(truth, "v0", truth["v0"] * 0.5))
        assert not result.passed, result.message()


def test_dyadic_variance_is_the_sum_over_pairs_sharing_a_block():
    rng = np.random.default_rng(3)
    n_points, n_blocks, n_bands = 200, 6, 3
    block_i = rng.integers(0, n_blocks, n_points)
    block_j = block_i + rng.integers(0, n_blocks - block_i)
    band = rng.integers(0, n_bands, n_points)
    values = rng.normal(size=n_points)
    expected = np.zeros(n_bands)
    for p in range(n_points):
        for q in range(n_points):
            share = {block_i[p], block_j[p]} & {block_i[q], block_j[q]}
            if band[p] == band[q] and share:
                expected[band[p]] += values[p] * values[q]
    np.testing.assert_allclose(dyadic_variance(band, block_i, block_j, values, n_bands, n_blocks), expected,
                               rtol=1e-12)


def test_lag_bands_cover_every_lag_once():
    for n_frames in (50, 77, 300):
        edges = lag_band_edges(n_frames)
        assert edges[0] == 1 and edges[-1] == n_frames and np.all(np.diff(edges) > 0)
        assert np.max(np.diff(edges)) <= np.ceil((n_frames - 1) / 10)


def test_result_is_json_ready(tmp_path):
    data, truth = simulated(tmp_path, "independent", 0, n_frames=50, n_angles=1)
    result, _ = check(data, changed(truth, "v0", truth["v0"] * 0.5))
    plain = json.loads(json.dumps(result.as_dict()))
    assert plain["passed"] is False and plain["statistic"] > plain["threshold"]
    assert plain["worst_angle"] == 0 and 1 <= plain["worst_lags"][0] <= plain["worst_lags"][1] < 50
    assert "residual structure" in result.message()
