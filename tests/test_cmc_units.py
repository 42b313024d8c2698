"""CMC building blocks against exact answers: shard plan, coordinates, tempered prior, consensus."""

import logging

import numpy as np
import pytest

from heterodyne.cmc import combine, geometry
from heterodyne.cmc.plan import MAX_AUTO_POINTS, shard_plan
from heterodyne.cmc.posterior import Priors, log_density, log_prior, model_arguments
from heterodyne.cmc.sampler import shard_seed
from heterodyne.jaxconfig import jax, jnp

AUTO = {"max_points_per_shard": "auto", "seed": 42}


def test_plan_is_a_pure_function_covering_every_point_once():
    plan = shard_plan(10_007, {"max_points_per_shard": 3000, "seed": 5})
    assert plan.n_shards == 4 and sum(plan.sizes) == 10_007 and max(plan.sizes) - min(plan.sizes) <= 1
    parts = [plan.point_indices(k) for k in range(plan.n_shards)]
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(10_007))
    again = shard_plan(10_007, {"max_points_per_shard": 3000, "seed": 5})
    assert all(np.array_equal(a, again.point_indices(k)) for k, a in enumerate(parts))
    other_seed = shard_plan(10_007, {"max_points_per_shard": 3000, "seed": 6})
    assert not np.array_equal(parts[0], other_seed.point_indices(0))
    # random, not contiguous: every shard spans the whole point list
    assert all(p.min() < 100 and p.max() > 9_900 for p in parts)


@pytest.mark.parametrize(("n_points", "shards"), [(5_000, 1), (50_000, 1), (50_001, 2), (59_700, 2), (239_400, 5)])
def test_auto_keeps_shards_at_or_below_the_ceiling_with_fewest_shards(n_points, shards):
    plan = shard_plan(n_points, AUTO)
    assert plan.n_shards == shards
    assert max(plan.sizes) <= MAX_AUTO_POINTS
    assert "auto" in plan.reason


def test_large_integer_shard_size_is_accepted_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="heterodyne"):
        plan = shard_plan(120_000, {"max_points_per_shard": 60_000, "seed": 1})
    assert plan.n_shards == 2
    assert "slow" in caplog.text


def test_shard_seeds_differ_per_shard_and_run_seed():
    seeds = {shard_seed(run, shard) for run in (1, 2) for shard in range(4)}
    assert len(seeds) == 8
    assert shard_seed(1, 3) == shard_seed(1, 3)


def test_coordinates_round_trip_and_jacobian_matches_finite_differences():
    rng = np.random.default_rng(0)
    lower, upper = np.array([1.0, -2.0, 0.0]), np.array([1e5, 2.0, 1.0])
    x = np.array([2e4, 0.3, 0.25])
    covariance = np.diag([1e6, 1e-2, 1e-4])
    geo = geometry.whitening(x, covariance, lower, upper, n_shards=4)
    arrays = [jnp.asarray(a) for a in (geo.center, geo.factor, geo.lower, geo.upper)]
    np.testing.assert_allclose(geometry.parameters_of(jnp.zeros(3), *arrays), x, rtol=1e-12)
    z = jnp.asarray(rng.standard_normal(3) * 0.5)
    jacobian = jax.jacfwd(lambda v: geometry.parameters_of(v, *arrays))(z)
    expected = np.log(abs(np.linalg.det(np.asarray(jacobian)))) - np.log(abs(np.linalg.det(geo.factor)))
    assert float(geometry.log_abs_jacobian(z, *arrays)) == pytest.approx(expected, rel=1e-10)


def test_whitening_scales_the_covariance_by_the_shard_count():
    lower, upper = np.zeros(2), np.ones(2) * 10
    x, covariance = np.array([5.0, 5.0]), np.array([[1e-4, 5e-5], [5e-5, 1e-4]])
    geo = geometry.whitening(x, covariance, lower, upper, n_shards=9)
    slope = 1.0 / (10 * 0.5 * 0.5)  # du/dx at the middle of the bounds
    np.testing.assert_allclose(geo.factor @ geo.factor.T, 9 * covariance * slope**2, rtol=1e-10)


def test_missing_covariance_rows_fall_back_to_a_unit_scale():
    x = np.array([0.5, 0.5])
    covariance = np.array([[1e-4, np.nan], [np.nan, np.nan]])
    geo = geometry.whitening(x, covariance, np.zeros(2), np.ones(2), n_shards=1)
    spread = geo.factor @ geo.factor.T
    assert spread[1, 1] == pytest.approx(geometry.FALLBACK_U_SD**2)
    assert spread[0, 1] == 0.0


def test_prior_is_raised_to_one_over_k_in_each_shard(tmp_path):
    """U_normal − U_uniform at the same z is exactly −(1/K) log π(x): counted once over K shards."""
    from nlsq_helpers import fit_config
    from heterodyne.nlsq.setup import build_problem
    from heterodyne.parameters import PHYSICS_PARAMETERS

    fixed = {p.name: p.default for p in PHYSICS_PARAMETERS if p.name not in ("D0_ref", "v0")}
    config = fit_config({"D0_ref": 2e4, "v0": 1000.0}, fixed, scaling={"mode": "fixed"})
    rng = np.random.default_rng(1)
    c2 = 1.0 + 0.01 * rng.standard_normal((3, 20, 20))
    problem, _ = build_problem(config, c2=c2, q=np.full(3, 0.009), phi=np.array([0.0, 45.0, 90.0]),
                               t=np.arange(1, 21) * 1e-3, dt=1e-3)
    geo = geometry.unit_geometry(np.array([2e4, 1000.0]), problem.lower[problem.vary], problem.upper[problem.vary])
    uniform = Priors(np.zeros(2, np.int64), np.zeros(2), np.ones(2))
    normal = Priors(np.array([1, 1]), np.array([1.9e4, 900.0]), np.array([500.0, 30.0]))
    z = jnp.array([0.1, -0.2])
    x = geometry.parameters_of(z, *(jnp.asarray(a) for a in (geo.center, geo.factor, geo.lower, geo.upper)))
    log_pi = float(log_prior(x, jnp.asarray(normal.kind), jnp.asarray(normal.mu), jnp.asarray(normal.sigma)))
    assert log_pi < -1.0  # the prior matters at this z
    def density(priors, n_shards):
        constants, data = model_arguments(problem, geo, priors, n_shards, problem.points.size + 7)
        return float(log_density(z, constants, *data, n_contrast=len(problem.scaling.contrast)))

    for k in (1, 4):
        assert density(normal, k) - density(uniform, k) == pytest.approx(log_pi / k, rel=1e-9)


def test_padding_points_do_not_change_the_density():
    from nlsq_helpers import fit_config
    from heterodyne.nlsq.setup import build_problem
    from heterodyne.parameters import PHYSICS_PARAMETERS

    fixed = {p.name: p.default for p in PHYSICS_PARAMETERS if p.name != "D0_ref"}
    config = fit_config({"D0_ref": 2e4}, fixed)
    rng = np.random.default_rng(5)
    c2 = 1.0 + 0.01 * rng.standard_normal((2, 15, 15))
    problem, _ = build_problem(config, c2=c2, q=np.full(2, 0.009), phi=np.array([0.0, 90.0]),
                               t=np.arange(1, 16) * 1e-3, dt=1e-3)
    free = problem.vary
    geo = geometry.unit_geometry(problem.initial[free], problem.lower[free], problem.upper[free])
    uniform = Priors(np.zeros(free.sum(), np.int64), np.zeros(free.sum()), np.ones(free.sum()))
    z = jnp.asarray(np.random.default_rng(6).standard_normal(free.sum()) * 0.1)
    values = []
    for size in (problem.points.size, problem.points.size + 50):
        constants, data = model_arguments(problem, geo, uniform, 1, size)
        values.append(float(log_density(z, constants, *data, n_contrast=len(problem.scaling.contrast))))
    assert values[0] == values[1]


def gaussian_shards(rng, means, covariances, n_chains=2, n_draws=20_000):
    return [rng.multivariate_normal(m, c, size=(n_chains, n_draws)) for m, c in zip(means, covariances, strict=True)]


def test_consensus_of_gaussian_shards_is_the_exact_product():
    rng = np.random.default_rng(2)
    means = [np.array([1.0, 2.0]), np.array([1.2, 1.9]), np.array([0.9, 2.2])]
    covariances = [np.array([[1.0, 0.3], [0.3, 0.5]]), np.array([[0.8, -0.1], [-0.1, 0.6]]), np.eye(2) * 0.7]
    shards = gaussian_shards(rng, means, covariances)
    precision = sum(np.linalg.inv(c) for c in covariances)
    exact_cov = np.linalg.inv(precision)
    exact_mean = exact_cov @ sum(np.linalg.inv(c) @ m for c, m in zip(covariances, means, strict=True))
    combined = combine.consensus_draws(shards).reshape(-1, 2)
    standard_error = np.sqrt(np.diag(exact_cov) / combined.shape[0])
    assert np.all(np.abs(combined.mean(axis=0) - exact_mean) < 4 * standard_error)
    np.testing.assert_allclose(np.cov(combined, rowvar=False), exact_cov, rtol=0.05, atol=0.01)
    product_mean, product_cov = combine.gaussian_product(shards)
    assert np.all(np.abs(product_mean - exact_mean) < 4 * standard_error)
    np.testing.assert_allclose(product_cov, exact_cov, rtol=0.05)


def test_one_shard_consensus_is_the_shard_itself():
    draws = np.random.default_rng(3).standard_normal((2, 100, 3))
    np.testing.assert_allclose(combine.consensus_draws([draws]), draws, rtol=1e-12, atol=1e-12)


def test_a_shard_far_from_the_others_raises_a_warning():
    rng = np.random.default_rng(4)
    shards = gaussian_shards(rng, [np.zeros(2), np.zeros(2), np.array([0.0, 20.0])], [np.eye(2)] * 3, n_draws=2000)
    combined = combine.consensus_draws(shards)
    mean, _ = combine.gaussian_product(shards)
    warnings = combine.agreement_warnings(("a", "b"), shards, combined, mean, np.full(2, 4000.0))
    assert any("shard 2" in w and "b (" in w for w in warnings)
    agreeing = gaussian_shards(rng, [np.zeros(2)] * 3, [np.eye(2)] * 3, n_draws=2000)
    combined = combine.consensus_draws(agreeing)
    mean, _ = combine.gaussian_product(agreeing)
    assert combine.agreement_warnings(("a", "b"), agreeing, combined, mean, np.full(2, 4000.0)) == []


def test_cmc_plan_command_prints_the_plan_from_a_count_or_from_the_data(tmp_path, capsys):
    import json

    from heterodyne.cli import main
    from nlsq_helpers import simulate

    config = tmp_path / "run.yaml"
    config.write_text("experimental_data: {q: 0.009, phi: [-157.5, -67.5, 22.5]}\n"
                      "optimization: {cmc: {max_points_per_shard: 1000, seed: 3}}\n")
    assert main(["cmc-plan", "--config", str(config), "--n-points", "120000"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["n_shards"] == 120 and sum(plan["shard_sizes"]) == 120_000 and plan["seed"] == 3
    data, _ = simulate(tmp_path, {}, n_frames=30)
    assert main(["cmc-plan", "--config", str(config), "--data", str(data)]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["n_points"] == 3 * 30 * 29 // 2 and plan["n_shards"] == 2
    assert main(["cmc-plan", "--config", str(config), "--n-points", "0"]) == 1


def test_shard_workers_come_from_config_then_environment_then_cores(monkeypatch):
    from heterodyne.cmc.workers import resolve_workers
    from heterodyne.errors import HeterodyneError

    monkeypatch.setenv("HETERODYNE_NUM_WORKERS", "3")
    assert resolve_workers(None, threads=8, n_shards=10) == 3
    assert resolve_workers(2, threads=8, n_shards=10) == 2
    assert resolve_workers(None, threads=2, n_shards=10) == 2  # never above the thread budget
    assert resolve_workers(None, threads=8, n_shards=1) == 1   # nor above the shards
    monkeypatch.setenv("HETERODYNE_NUM_WORKERS", "0")
    with pytest.raises(HeterodyneError, match="HETERODYNE_NUM_WORKERS='0'"):
        resolve_workers(None, threads=8, n_shards=10)
    monkeypatch.delenv("HETERODYNE_NUM_WORKERS")
    monkeypatch.setattr("os.sched_getaffinity", lambda _: set(range(16)))
    assert resolve_workers(None, threads=16, n_shards=10) == 7  # floor(16 / 2) - 1
