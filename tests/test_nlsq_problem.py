"""The compressed least-squares problem, chunking, multistart and the scaling modes."""

import numpy as np
import pytest

from heterodyne.config import parameter_table, resolve_config
from heterodyne.errors import HeterodyneError
from heterodyne.jaxconfig import jax, jnp
from heterodyne.model import c2_points
from heterodyne.nlsq import problem as problem_module
from heterodyne.nlsq.problem import ResidualEvaluator, make_problem, split_full
from heterodyne.nlsq.solve import start_points
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
    problem = make_problem(parameter_table(config), build_scaling(config["scaling"], phi),
                           t=np.arange(1, n_frames + 1) * 0.01, q=np.full(phi.size, 0.01), phi=phi,
                           points=points, sigma=sigma)
    return problem, config


def explicit_residuals(problem, x):
    """r(x) written out directly from the model, without the evaluator."""
    full = jnp.asarray(problem.initial).at[np.flatnonzero(problem.vary)].set(x)
    theta, c, o = split_full(full, len(problem.scaling.contrast))
    contrast, offset = problem.scaling.values(c, o)
    p = problem.points
    model = c2_points(theta, contrast, offset, t=problem.t, q=problem.q, phi=problem.phi,
                      angle_index=p.angle_index, i=p.i, j=p.j)
    return (p.value - model) / problem.sigma


def test_square_root_reproduces_the_full_problem():
    # the offsets trade off against the prefactors: fixed, so the step is well conditioned
    problem, _ = small_problem(fixed=("D_offset_ref", "D_offset_sample", "v_offset", "beta", "alpha_sample"))
    x = problem.initial[problem.vary] * 1.1 + 0.01
    jacobian = np.asarray(jax.jacfwd(lambda v: explicit_residuals(problem, v))(x))
    residuals = np.asarray(explicit_residuals(problem, x))
    root = ResidualEvaluator(problem).square_root(x)
    augmented = np.column_stack([jacobian, residuals])
    gram = augmented.T @ augmented
    np.testing.assert_allclose(root.T @ root, gram, rtol=1e-9, atol=1e-9 * np.abs(gram).max())
    # hence the same cost and the same Gauss-Newton step
    np.testing.assert_allclose(root[:, -1] @ root[:, -1], residuals @ residuals, rtol=1e-12)
    step_full = np.linalg.lstsq(jacobian, -residuals, rcond=None)[0]
    step_compressed = np.linalg.lstsq(root[:, :-1], -root[:, -1], rcond=None)[0]
    np.testing.assert_allclose(step_compressed, step_full, rtol=1e-6)


def test_chunked_gram_equals_single_chunk(monkeypatch):
    problem, _ = small_problem(n_frames=40)
    x = problem.initial[problem.vary]
    whole = ResidualEvaluator(problem).gram(x)
    monkeypatch.setattr(problem_module, "CHUNK_POINTS", 500)
    chunked_evaluator = ResidualEvaluator(problem)
    assert len(chunked_evaluator._chunks) > 1
    np.testing.assert_allclose(chunked_evaluator.gram(x), whole, rtol=1e-12, atol=1e-12 * np.abs(whole).max())


def test_threaded_passes_equal_the_serial_ones_to_round_off_and_fit_the_same_optimum(monkeypatch, tmp_path):
    """The chunks of a pass evaluated in 3 threads at once: the same Gram matrix, score sums and
    optimum as one thread (the chunks' sums are added in another grouping: round-off only)."""
    from nlsq_helpers import fit_config, simulate

    from heterodyne.data import load_data
    from heterodyne.nlsq.setup import build_problem
    from heterodyne.nlsq.solve import fit
    from heterodyne.parameters import PHYSICS_NAMES

    problem, _ = small_problem(n_frames=50)
    x = problem.initial[problem.vary] * 1.05
    serial = ResidualEvaluator(problem)
    monkeypatch.setattr(problem_module, "MIN_THREAD_POINTS", 1000)
    threaded = ResidualEvaluator(problem, threads=3)
    assert len(serial._chunks) == 1 and len(threaded._chunks) == 3 and threaded.threads == 3
    whole, parts = serial.score_sums(x), threaded.score_sums(x)
    for name in ("gram", "block_scores", "residuals"):
        expected, actual = getattr(whole, name), getattr(parts, name)
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max(), err_msg=name)
    np.testing.assert_allclose(threaded.gram(x), whole.gram, rtol=1e-12, atol=1e-12 * np.abs(whole.gram).max())

    truth = dict(D0_ref=2e4, D0_sample=8e4, v0=1200.0, f0=0.3)
    path, _ = simulate(tmp_path, truth, n_frames=50, noise_sigma=0.002, seed=5)
    fixed = {name: 0.0 for name in PHYSICS_NAMES if name not in truth} | {"D0_sample": truth["D0_sample"]}
    config = fit_config(dict(D0_ref=2.6e4, v0=1000.0, f0=0.36), fixed,
                        optimization={"nlsq": {"noise_sigma": 0.002}})
    data = load_data(path, q=config["experimental_data"]["q"], phi=config["experimental_data"]["phi"])
    problem, _ = build_problem(config, c2=data.c2, q=data.q, phi=data.phi, t=data.times, dt=data.dt)
    one, three = (fit(problem, config["optimization"]["nlsq"], threads=threads) for threads in (1, 3))
    assert one.converged and one.function_evaluations == three.function_evaluations, one.convergence_warning
    np.testing.assert_allclose(three.full, one.full, rtol=1e-8)
    np.testing.assert_allclose(three.uncertainties.stderr, one.uncertainties.stderr, rtol=1e-8)


def test_multistart_points_are_seeded_inside_bounds_and_start_at_initial():
    problem, _ = small_problem()
    first = start_points(problem, 6, seed=3)
    again = start_points(problem, 6, seed=3)
    other = start_points(problem, 6, seed=4)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[1:], other[1:])
    np.testing.assert_array_equal(first[0], problem.initial[problem.vary])
    lower, upper = problem.lower[problem.vary], problem.upper[problem.vary]
    assert ((first >= lower) & (first <= upper)).all()
    # Latin hypercube: each of the 5 drawn starts falls in a different fifth of every range
    strata = np.floor((first[1:] - lower) / (upper - lower) * 5).astype(int)
    for column in strata.T:
        assert sorted(column) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("mode, n_angles, expected, n_coefficients", [
    ("auto", 3, "individual", 3), ("auto", 6, "fourier", 3), ("constant", 6, "constant", 1),
    ("individual", 6, "individual", 6), ("fixed", 3, "fixed", 3),
])
def test_scaling_modes(mode, n_angles, expected, n_coefficients):
    config = resolve_config({"scaling": {"mode": mode, "fourier_order": 1}})
    scaling = build_scaling(config["scaling"], PHI[:n_angles])
    assert scaling.mode == expected
    assert len(scaling.contrast) == len(scaling.offset) == n_coefficients
    assert all(c.vary for c in scaling.contrast) == (expected != "fixed")


def test_fourier_scaling_is_a_smooth_function_of_phi():
    config = resolve_config({"scaling": {"mode": "fourier", "fourier_order": 1}})
    scaling = build_scaling(config["scaling"], PHI)
    contrast, _ = scaling.values(np.array([0.2, 0.05, -0.03]), np.array([1.0, 0.0, 0.0]))
    phi = np.deg2rad(PHI)
    np.testing.assert_allclose(contrast, 0.2 + 0.05 * np.cos(phi) - 0.03 * np.sin(phi), rtol=1e-14)


def test_fourier_needs_enough_angles():
    config = resolve_config({"scaling": {"mode": "fourier", "fourier_order": 2}})
    with pytest.raises(HeterodyneError, match="fourier of order 2 needs at least 5 angles, 3 selected"):
        build_scaling(config["scaling"], PHI[:3])
