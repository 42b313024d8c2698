"""The data-driven start (heterodyne/nlsq/start_estimate.py) against known truths: noise-free
model matrices, simulated independent-noise and speckle files, and the APS correlator's file.

Recovery tolerances are those the start is built for (30 % on D0 and v0, 0.1 on f0, 3° on phi0,
0.3 on the exponents), up to the swap of the two components. The nine parameters the start reads
off the data vary from the registry defaults; the others are held at the truth. Each simulated
case was checked by hand on six seeds (independent noise) and five (speckle) before one was kept.
"""

import json

import numpy as np
import pytest

from heterodyne.data import load_file
from heterodyne.data.matrices import symmetric_from_stored
from heterodyne.jaxconfig import jnp
from heterodyne.model import c2_grid
from heterodyne.nlsq import start_estimate
from heterodyne.nlsq.start_estimate import FITTED, estimate_start
from heterodyne.parameters import PHYSICS_NAMES, PHYSICS_PARAMETERS
from heterodyne.simulation import SimulationSpec, model_matrices, speckle_frames, stored_matrices
from heterodyne.simulation.speckle import correlator_c2

LOWER = np.array([p.lower for p in PHYSICS_PARAMETERS])
UPPER = np.array([p.upper for p in PHYSICS_PARAMETERS])
RELATIVE = {"D0_ref": 0.3, "D0_sample": 0.3, "v0": 0.3}
ABSOLUTE = {"f0": 0.1, "phi0": 3.0, "alpha_ref": 0.3, "alpha_sample": 0.3, "beta": 0.3}

CASES = {
    "fast_decay_many_fringes": dict(D0_ref=3e4, alpha_ref=-0.3, D0_sample=8e4, alpha_sample=0.2, v0=3000.0,
                                    beta=0.2, f0=0.4, phi0=3.0),
    "slow_decay_few_fringes": dict(D0_ref=3e3, alpha_ref=0.3, D0_sample=1.5e4, alpha_sample=-0.2, v0=500.0,
                                   beta=-0.3, f0=0.6, phi0=-4.0),
    "sample_rich": dict(D0_ref=1e4, alpha_ref=0.2, D0_sample=4e4, alpha_sample=-0.3, v0=1500.0, beta=0.3, f0=0.8,
                        phi0=1.0),
    "reference_rich": dict(D0_ref=6e3, alpha_ref=-0.2, D0_sample=5e4, alpha_sample=0.3, v0=2000.0, beta=-0.2,
                           f0=0.2, phi0=-2.0),
    "sample_poor": dict(D0_ref=1.5e4, alpha_ref=0.3, D0_sample=6e4, alpha_sample=-0.2, v0=2500.0, beta=-0.2,
                        f0=0.3, phi0=-3.0),
}

NOISE_FREE_GRID = (0.006 * np.arange(1, 151), np.array([0.009, 0.009, 0.012, 0.012, 0.012]),
                   np.array([-112.5, 22.5, -22.5, 67.5, 157.5]))
"""(t, q, phi) of the noise-free model matrices."""


def theta_of(truth: dict) -> np.ndarray:
    return np.array([truth.get(p.name, p.default) for p in PHYSICS_PARAMETERS])


def simulated(truth: dict, *, seed: int, **spec_fields) -> tuple[np.ndarray, ...]:
    """(c2 (A, N, N) full symmetric, q, phi, t) of a simulated file: 200 frames of 6 ms, 2 q × 4 angles."""
    spec = SimulationSpec(n_frames=200, q_centres=(0.009, 0.012), phi_centres=(-112.5, -22.5, 22.5, 67.5),
                          empty_cells=(), processed_q_rows=(0, 1), seed=seed, params=truth, **spec_fields)
    stored = correlator_c2(speckle_frames(spec)) if spec.noise == "speckle" else stored_matrices(
        spec, model_matrices(spec))
    c2 = np.stack([symmetric_from_stored(matrix.astype(float), "simulated") for matrix in stored])
    bins = spec.processed_bins()
    return c2, np.array([b.q for b in bins]), np.array([b.phi for b in bins]), spec.frame_times()


def configuration(theta: np.ndarray, varied=FITTED) -> tuple[np.ndarray, ...]:
    """(initial, vary, lower, upper): registry defaults for ``varied``, the truth held for the rest."""
    vary = np.isin(PHYSICS_NAMES, varied)
    initial = np.where(vary, [p.default for p in PHYSICS_PARAMETERS], theta)
    return initial, vary, LOWER, UPPER


def swapped(theta: np.ndarray) -> np.ndarray:
    """The same c2 with the components exchanged (f1 = 0: f_s → 1 − f_s, f0 → 1 − f0 − 2 f3)."""
    other = theta.copy()
    other[[0, 1, 2, 3, 4, 5]] = theta[[3, 4, 5, 0, 1, 2]]
    other[9] = 1.0 - theta[9] - 2.0 * theta[12]
    return other


def worst_error(estimate: np.ndarray, theta: np.ndarray) -> tuple[float, str]:
    """Largest error over tolerance, and its parameter, for the better of the two labellings."""
    def errors(reference):
        found = dict(zip(PHYSICS_NAMES, estimate, strict=True))
        true = dict(zip(PHYSICS_NAMES, reference, strict=True))
        ratios = {name: abs(found[name] / true[name] - 1) / limit for name, limit in RELATIVE.items()}
        ratios.update({name: abs(found[name] - true[name]) / limit for name, limit in ABSOLUTE.items()})
        name = max(ratios, key=ratios.get)
        return ratios[name], name

    return min(errors(theta), errors(swapped(theta)))


def test_noise_free_stationary_matrices_give_the_exact_start():
    """Stationary truth, matrices from the model itself with irregular per-bin contrast and offset
    and a diagonal excess: every one of the nine varied parameters comes back to rounding."""
    theta = theta_of(dict(D0_ref=4e3, D0_sample=3e4, v0=1500.0, f0=0.35, phi0=3.0))
    t, q, phi = NOISE_FREE_GRID
    contrast = np.array([0.21, 0.17, 0.25, 0.19, 0.23])
    offset = np.array([1.0, 1.02, 0.98, 1.01, 0.99])
    c2 = np.asarray(c2_grid(jnp.asarray(theta), jnp.asarray(contrast), jnp.asarray(offset), t=jnp.asarray(t),
                            q=jnp.asarray(q), phi=jnp.asarray(phi))) + 0.05 * np.eye(t.size)
    estimate = estimate_start(c2, q, phi, t, *configuration(theta))
    np.testing.assert_allclose(estimate, theta, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("case", ["fast_decay_many_fringes", "slow_decay_few_fringes", "sample_rich",
                                  "reference_rich"])
def test_recovers_truth_from_independent_noise(case):
    theta = theta_of(CASES[case])
    c2, q, phi, t = simulated(CASES[case], seed=1)
    error, name = worst_error(estimate_start(c2, q, phi, t, *configuration(theta)), theta)
    assert error <= 1.0, (name, error)


@pytest.mark.parametrize("case", ["fast_decay_many_fringes", "sample_poor"])
def test_recovers_truth_from_speckle(case):
    """Pixel-level speckle and photon counts (frame-correlated noise), 2000 pixels of 4 modes per bin."""
    theta = theta_of(CASES[case])
    c2, q, phi, t = simulated(CASES[case], seed=1, noise="speckle", stride_frame=6, avg_frame=1)
    error, name = worst_error(estimate_start(c2, q, phi, t, *configuration(theta)), theta)
    assert error <= 1.0, (name, error)


def test_recovers_truth_from_the_correlator_file(correlator_file):
    """All eight bins of the APS correlator's file (boost_corr, speckle-level source); f2, f3 and the
    offsets held at their truth as the truth fixes them."""
    truth = json.loads(correlator_file.with_name("hetflow_a0001_truth.json").read_text())["params"]
    theta = np.array([truth[name] for name in PHYSICS_NAMES])
    data = load_file(correlator_file)
    estimate = estimate_start(data.c2, data.q, data.phi, data.times, *configuration(theta))
    error, name = worst_error(estimate, theta)
    assert error <= 1.0, (name, error)


def test_held_parameters_come_back_unchanged_and_the_others_consistent_with_them():
    """alpha_sample, f1 and phi0 held at the truth, v0 held 10 % too high: held values are returned
    bit for bit, the rest are still recovered, and β rises to bring the window's mean speed
    (1/T) ∫ v0 t^β dt back within 5 % of the truth's (10 % off at the true β)."""
    truth = CASES["fast_decay_many_fringes"]
    theta = theta_of(truth)
    c2, q, phi, t = simulated(truth, seed=2)
    initial, vary, lower, upper = configuration(theta, varied=("D0_ref", "alpha_ref", "D0_sample", "beta", "f0"))
    initial[PHYSICS_NAMES.index("v0")] = 1.1 * truth["v0"]
    estimate = estimate_start(c2, q, phi, t, initial, vary, lower, upper)
    np.testing.assert_array_equal(estimate[~vary], initial[~vary])
    found = dict(zip(PHYSICS_NAMES, estimate, strict=True))
    for name in ("D0_ref", "D0_sample"):
        assert abs(found[name] / truth[name] - 1) <= 0.3, name
    assert abs(found["alpha_ref"] - truth["alpha_ref"]) <= 0.3
    assert abs(found["f0"] - truth["f0"]) <= 0.1

    def mean_speed(v0, beta):
        return v0 * (t[-1] ** (beta + 1) - t[0] ** (beta + 1)) / ((beta + 1) * (t[-1] - t[0]))

    assert found["beta"] > truth["beta"]
    assert abs(mean_speed(found["v0"], found["beta"]) / mean_speed(truth["v0"], truth["beta"]) - 1) <= 0.05


def test_with_alpha_held_at_zero_d0_is_the_mean_rate():
    """An ageing reference (alpha_ref = 0.5, a stationary sample) fitted with both exponents held at
    0: D0_ref lands near the window's mean rate (1/T) ∫ D0 t^α dt, the rate a stationary reference
    must carry; the configured start (the slower component as the reference) sets the labelling."""
    truth = dict(CASES["sample_poor"], alpha_ref=0.5, alpha_sample=0.0)
    theta = theta_of(truth)
    c2, q, phi, t = simulated(truth, seed=3)
    initial, vary, lower, upper = configuration(theta, varied=("D0_ref", "D0_sample", "v0", "beta", "f0", "phi0"))
    initial[PHYSICS_NAMES.index("alpha_ref")] = 0.0
    initial[PHYSICS_NAMES.index("D0_sample")] = 5e4
    estimate = estimate_start(c2, q, phi, t, initial, vary, lower, upper)
    power = truth["alpha_ref"] + 1
    mean_rate = truth["D0_ref"] * (t[-1] ** power - t[0] ** power) / (power * (t[-1] - t[0]))
    assert abs(estimate[PHYSICS_NAMES.index("D0_ref")] / mean_rate - 1) <= 0.3
    assert abs(estimate[PHYSICS_NAMES.index("D0_sample")] / truth["D0_sample"] - 1) <= 0.3
    assert estimate[PHYSICS_NAMES.index("alpha_ref")] == 0.0


def test_every_varied_value_lies_strictly_inside_its_bounds():
    """Bounds that exclude the truth (v0 capped at half of it, f0 at most 0.3 below a truth of 0.4,
    D0_ref at least twice its truth): the start sits strictly inside them."""
    truth = CASES["fast_decay_many_fringes"]
    theta = theta_of(truth)
    c2, q, phi, t = simulated(truth, seed=4)
    initial, vary, lower, upper = configuration(theta)
    lower, upper = lower.copy(), upper.copy()
    upper[PHYSICS_NAMES.index("v0")] = 0.5 * truth["v0"]
    upper[PHYSICS_NAMES.index("f0")] = 0.3
    lower[PHYSICS_NAMES.index("D0_ref")] = 2 * truth["D0_ref"]
    initial = np.clip(initial, lower, upper)
    estimate = estimate_start(c2, q, phi, t, initial, vary, lower, upper)
    assert np.all(np.isfinite(estimate))
    assert np.all((estimate[vary] > lower[vary]) & (estimate[vary] < upper[vary]))


def test_aliased_fringes_and_too_few_frames_still_give_a_start_inside_the_bounds():
    """Frames 50 ms apart put the fastest bin's fringes beyond π per frame (they alias); 6 frames say
    too little (the configured start comes back)."""
    truth = dict(CASES["fast_decay_many_fringes"], D0_ref=3e3, D0_sample=8e3, v0=9000.0, beta=0.0)
    theta = theta_of(truth)
    c2, q, phi, t = simulated(truth, seed=5, stride_frame=10, avg_frame=5)
    assert (q * np.abs(np.cos(np.deg2rad(phi + truth["phi0"])))).max() * truth["v0"] * (t[1] - t[0]) > np.pi
    initial, vary, lower, upper = configuration(theta)
    for frames in (200, 6):
        estimate = estimate_start(c2[:, :frames, :frames], q, phi, t[:frames], initial, vary, lower, upper)
        assert np.all(np.isfinite(estimate))
        assert np.all((estimate[vary] > lower[vary]) & (estimate[vary] < upper[vary]))
    np.testing.assert_array_equal(estimate, initial)


def test_the_estimate_is_deterministic():
    truth = CASES["sample_poor"]
    c2, q, phi, t = simulated(truth, seed=6)
    configured = configuration(theta_of(truth))
    first, second = (estimate_start(c2, q, phi, t, *configured) for _ in range(2))
    np.testing.assert_array_equal(first, second)


def test_numpy_pair_model_matches_the_jax_model():
    """The ageing fit's model at whole frames is heterodyne.model's c2 (contrast 1, offset 0), with
    every ingredient switched on."""
    theta = theta_of(dict(D0_ref=2e4, alpha_ref=0.4, D_offset_ref=300.0, D0_sample=6e3, alpha_sample=-0.3,
                          v0=1200.0, beta=0.3, v_offset=40.0, f0=0.3, f1=-0.5, f2=0.2, f3=0.1, phi0=4.0))
    t, q, phi = NOISE_FREE_GRID
    reference = np.asarray(c2_grid(jnp.asarray(theta), jnp.ones(q.size), jnp.zeros(q.size), t=jnp.asarray(t),
                                   q=jnp.asarray(q), phi=jnp.asarray(phi)))
    rng = np.random.default_rng(0)
    first = rng.integers(0, t.size - 30, size=(1, 50))
    second = first + rng.integers(1, 30, size=first.shape)
    data = start_estimate.AgeLagMap(values=np.zeros((q.size, 50)), counts=np.ones(50),
                                    below=np.stack([first, second]), fraction=np.zeros((2, 1, 50)),
                                    weights=np.ones((1, 50)))
    ours = start_estimate.Pairs(theta, t, q, phi, data).correlation()
    np.testing.assert_allclose(ours, reference[:, first[0], second[0]], rtol=1e-12, atol=1e-14)


def test_ageing_fit_jacobian_matches_finite_differences():
    """The closed-form Jacobian of the projected residuals, for all nine variables and for a subset
    with prefactors held (the exponents then turn about t = 1), against central differences."""
    truth = dict(D0_ref=2e4, alpha_ref=0.3, D0_sample=5e3, alpha_sample=-0.2, v0=1500.0, beta=0.2, f0=0.35,
                 f1=-0.4, f3=0.1, phi0=3.0)
    theta = theta_of(truth)
    c2, q, phi, t = simulated(truth, seed=7)
    for varied in (FITTED, ("alpha_ref", "D0_sample", "beta", "f1", "phi0")):
        initial, vary, lower, upper = configuration(theta, varied)
        variables = start_estimate.Variables.build(initial, vary, lower, upper, t)
        point = 1.1 * theta
        data = start_estimate.AgeLagMap.build(c2, t, q, [point])
        weights = data.counts / np.full((q.size, 1), 1e-4)

        def state(z, variables=variables, data=data, weights=weights):
            pairs = start_estimate.Pairs(variables.theta(z), t, q, phi, data)
            return pairs, start_estimate.Projected.of(pairs.correlation(), data.values, weights)

        z = variables.z(point)
        pairs, projected = state(z)
        changes = np.stack([pairs.derivative(quantity, change) for quantity, change
                            in start_estimate.frame_derivatives(variables.theta(z), t, variables)])
        jacobian = projected.derivative(changes).reshape(len(changes), -1).T
        for column, name in enumerate(variables.names):
            step = 1e-6 * max(abs(z[column]), 1.0)
            shift = np.eye(z.size)[column] * step
            numeric = (state(z + shift)[1].residuals - state(z - shift)[1].residuals).ravel() / (2 * step)
            scale = np.abs(numeric).max()
            np.testing.assert_allclose(jacobian[:, column], numeric, atol=1e-5 * scale, err_msg=name)
