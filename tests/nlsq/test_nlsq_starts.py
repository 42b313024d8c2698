"""The candidate starts of the global search: seeded draws around a centre, held parameters kept."""

import dataclasses

import numpy as np

from heterodyne.config import parameter_table, resolve_config
from heterodyne.nlsq.problem import make_problem
from heterodyne.nlsq.starts import EXPONENT_SPREAD, SCALE_SPREAD, candidate_starts, draws_around
from heterodyne.parameters import N_PHYSICS, PHYSICS_NAMES
from heterodyne.points import upper_triangle_points
from heterodyne.scaling import build_scaling

PHI = np.array([0.0, 60.0, 120.0])


def problem_with(parameters: dict, n_frames: int = 20):
    config = resolve_config({"parameters": parameters})
    c2 = 1.0 + 0.1 * np.random.default_rng(0).random((PHI.size, n_frames, n_frames))
    c2 = (c2 + c2.transpose(0, 2, 1)) / 2
    points = upper_triangle_points(c2)
    problem = make_problem(parameter_table(config), build_scaling(config.scaling, PHI),
                           t=np.arange(1, n_frames + 1) * 0.01, q=np.full(PHI.size, 0.01), phi=PHI,
                           points=points, sigma=np.full(points.size, 0.01))
    return problem, config, c2


def test_draws_are_seeded_within_their_spread_and_bounds_and_keep_held_parameters():
    problem, _, _ = problem_with({"alpha_ref": {"vary": False, "initial": 0.3}})
    centre = problem.initial[:N_PHYSICS].copy()
    first, again, other = (draws_around(centre, problem, 200, seed) for seed in (3, 3, 4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.all((first >= problem.lower[:N_PHYSICS]) & (first <= problem.upper[:N_PHYSICS]))
    k = {name: PHYSICS_NAMES.index(name) for name in ("D0_sample", "alpha_ref", "alpha_sample", "f2")}
    # scale parameters: log-uniform within a factor SCALE_SPREAD either side (quartiles of the log)
    log_ratio = np.log(first[:, k["D0_sample"]] / centre[k["D0_sample"]]) / np.log(SCALE_SPREAD)
    assert np.all(np.abs(log_ratio) <= 1.0)
    np.testing.assert_allclose(np.quantile(log_ratio, [0.25, 0.5, 0.75]), [-0.5, 0.0, 0.5], atol=0.15)
    # exponents uniform within ± EXPONENT_SPREAD; held parameters (alpha_ref, f2) never move
    assert np.all(np.abs(first[:, k["alpha_sample"]] - centre[k["alpha_sample"]]) <= EXPONENT_SPREAD)
    assert first[:, k["alpha_sample"]].std() > EXPONENT_SPREAD / 3
    assert np.all(first[:, k["alpha_ref"]] == 0.3) and np.all(first[:, k["f2"]] == centre[k["f2"]])


def test_candidates_are_the_configured_values_then_draws():
    problem, config, c2 = problem_with({})
    settings = dataclasses.replace(config.optimization.nlsq, start="initial", multistart=4)
    starts, labels = candidate_starts(problem, c2, settings)
    assert labels == ["configured", "draw 1", "draw 2", "draw 3"]
    np.testing.assert_array_equal(starts[0], problem.initial[:N_PHYSICS])
    np.testing.assert_array_equal(starts[1:], draws_around(problem.initial[:N_PHYSICS], problem, 3, settings.seed))
