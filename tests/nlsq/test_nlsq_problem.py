"""The problem's passes: chunking, threads, and the scaling modes."""

import numpy as np
import pytest

from heterodyne.config import parameter_table, resolve_config
from heterodyne.errors import HeterodyneError
from heterodyne.nlsq import projection
from heterodyne.nlsq.problem import make_problem
from heterodyne.nlsq.projection import ProjectedEvaluator
from heterodyne.parameters import N_PHYSICS
from heterodyne.points import upper_triangle_points
from heterodyne.scaling import build_scaling

PHI = np.array([-30.0, 10.0, 80.0, 150.0, 200.0, 260.0])


def small_problem(n_frames=30, mode="individual", phi=PHI[:3], multistart=1, fixed=()):
    parameters = {"alpha_ref": {"initial": -0.2}, "f1": {"initial": 0.5}}
    parameters.update({name: {"vary": False} for name in ("phi0", "f2", "f3", *fixed)})
    raw = {
        "parameters": parameters,
        "scaling": {"mode": mode, "fourier_order": 1},
        "optimization": {"nlsq": {"multistart": multistart}},
    }
    config = resolve_config(raw)
    rng = np.random.default_rng(0)
    c2 = 1.0 + 0.2 * rng.random((phi.size, n_frames, n_frames))
    points = upper_triangle_points(c2)
    sigma = 0.01 + 0.001 * points.lag()
    problem = make_problem(parameter_table(config), build_scaling(config.scaling, phi),
                           t=np.arange(1, n_frames + 1) * 0.01, q=np.full(phi.size, 0.01), phi=phi,
                           points=points, sigma=sigma)
    return problem, config


def test_chunked_gram_equals_single_chunk(monkeypatch):
    """Smaller cache blocks and chunks (the last padded) sum the same per-angle Gram matrices."""
    problem, _ = small_problem(n_frames=40)
    theta = problem.initial[:N_PHYSICS][problem.vary[:N_PHYSICS]]
    whole = ProjectedEvaluator(problem).angle_grams(theta, problem.initial[N_PHYSICS:])
    monkeypatch.setattr(projection, "CACHE_POINTS", 300)
    monkeypatch.setattr(projection, "CHUNK_POINTS", 700)
    chunked = ProjectedEvaluator(problem)
    assert len(chunked._chunks) > 3 and chunked._chunks[0][1].shape[1] < 300
    chunked_grams = chunked.angle_grams(theta, problem.initial[N_PHYSICS:])
    np.testing.assert_allclose(chunked_grams, whole, rtol=1e-12, atol=1e-12 * np.abs(whole).max())


def test_threaded_passes_equal_the_serial_ones_to_the_last_bit_and_fit_the_same_optimum(tmp_path):
    """The chunks of a pass do not depend on the thread count, and their sums are added in chunk
    order: 1 and 3 threads give the same Gram matrices, score sums and optimum, bit for bit."""
    from nlsq_helpers import fit_config, simulate

    from heterodyne.data import load_file
    from heterodyne.nlsq.setup import build_problem
    from heterodyne.nlsq.solve import fit
    from heterodyne.parameters import PHYSICS_NAMES

    problem, _ = small_problem(n_frames=50)
    theta = problem.initial[:N_PHYSICS][problem.vary[:N_PHYSICS]] * 1.05
    serial, threaded = ProjectedEvaluator(problem), ProjectedEvaluator(problem, threads=3)
    assert len(serial._chunks) == len(threaded._chunks) == 3 and threaded.threads == 3
    reference = problem.initial[N_PHYSICS:]
    np.testing.assert_array_equal(threaded.angle_grams(theta, reference), serial.angle_grams(theta, reference))
    z = serial.best_scaling(serial.angle_grams(theta, reference), reference)
    whole, parts = serial.score_sums(theta, z), threaded.score_sums(theta, z)
    for name in ("block_grams", "expand", "residuals"):
        np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name), err_msg=name)

    truth = dict(D0_ref=2e4, D0_sample=8e4, v0=1200.0, f0=0.3)
    path, _ = simulate(tmp_path, truth, n_frames=50, noise_sigma=0.002, seed=5)
    fixed = {name: 0.0 for name in PHYSICS_NAMES if name not in truth} | {"D0_sample": truth["D0_sample"]}
    config = fit_config(dict(D0_ref=2.6e4, v0=1000.0, f0=0.36), fixed,
                        optimization={"nlsq": {"noise_sigma": 0.002}})
    data = load_file(path, q=config.experimental_data.q, phi=config.experimental_data.phi)
    problem, _ = build_problem(config, c2=data.c2, q=data.q, phi=data.phi, t=data.times, dt=data.dt)
    one, three = (fit(problem, config.optimization.nlsq, threads=threads) for threads in (1, 3))
    assert one.converged and one.function_evaluations == three.function_evaluations, one.convergence_warning
    np.testing.assert_array_equal(three.full, one.full)
    np.testing.assert_array_equal(three.uncertainties.stderr, one.uncertainties.stderr)


@pytest.mark.parametrize("mode, n_angles, expected, n_coefficients", [
    ("auto", 3, "individual", 3), ("auto", 6, "individual", 6), ("constant", 6, "constant", 1),
    ("individual", 6, "individual", 6), ("fixed", 3, "fixed", 3),
])
def test_scaling_modes(mode, n_angles, expected, n_coefficients):
    config = resolve_config({"scaling": {"mode": mode, "fourier_order": 1}})
    scaling = build_scaling(config.scaling, PHI[:n_angles])
    assert scaling.mode == expected
    assert len(scaling.contrast) == len(scaling.offset) == n_coefficients
    assert all(c.vary for c in scaling.contrast) == (expected != "fixed")


def test_fourier_scaling_is_a_smooth_function_of_phi():
    config = resolve_config({"scaling": {"mode": "fourier", "fourier_order": 1}})
    scaling = build_scaling(config.scaling, PHI)
    contrast, _ = scaling.values(np.array([0.2, 0.05, -0.03]), np.array([1.0, 0.0, 0.0]))
    phi = np.deg2rad(PHI)
    np.testing.assert_allclose(contrast, 0.2 + 0.05 * np.cos(phi) - 0.03 * np.sin(phi), rtol=1e-14)


def test_fourier_needs_enough_angles():
    config = resolve_config({"scaling": {"mode": "fourier", "fourier_order": 2}})
    with pytest.raises(HeterodyneError, match="fourier of order 2 needs at least 5 angles, 3 selected"):
        build_scaling(config.scaling, PHI[:3])
