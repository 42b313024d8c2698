"""CMC building blocks against exact answers: shard plan, coordinates, tempered prior, consensus."""

import logging

import numpy as np
import pytest

from heterodyne.cmc import barycenter, calibration, geometry, scott
from heterodyne.cmc.plan import MAX_AUTO_POINTS, MAX_ONE_SHARD_POINTS, shard_plan
from heterodyne.cmc.posterior import Priors, log_density, log_prior, model_arguments
from heterodyne.cmc.sampler import shard_seed
from heterodyne.cmc.shard_covariance import regularised_covariance
from heterodyne.config import resolve_config
from heterodyne.config.tree import CmcSettings
from heterodyne.jaxconfig import jax, jnp


def cmc_settings(**values) -> CmcSettings:
    """The resolved ``optimization.cmc`` section with ``values`` set."""
    return resolve_config({"optimization": {"cmc": values}}).optimization.cmc


AUTO = cmc_settings(max_points_per_shard="auto", seed=42, combination="barycenter")


def test_plan_is_a_pure_function_covering_every_point_once():
    plan = shard_plan(10_007, cmc_settings(max_points_per_shard=3000, seed=5))
    assert plan.n_shards == 4 and sum(plan.sizes) == 10_007 and max(plan.sizes) - min(plan.sizes) <= 1
    parts = [plan.point_indices(k) for k in range(plan.n_shards)]
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(10_007))
    again = shard_plan(10_007, cmc_settings(max_points_per_shard=3000, seed=5))
    assert all(np.array_equal(a, again.point_indices(k)) for k, a in enumerate(parts))
    other_seed = shard_plan(10_007, cmc_settings(max_points_per_shard=3000, seed=6))
    assert not np.array_equal(parts[0], other_seed.point_indices(0))
    # random, not contiguous: every shard spans the whole point list
    assert all(p.min() < 100 and p.max() > 9_900 for p in parts)


@pytest.mark.parametrize(("n_points", "shards"), [(5_000, 1), (59_700, 1), (1_498_500, 1), (14_000_000, 1),
                                                  (14_000_001, 281), (20_000_000, 400)])
def test_auto_keeps_one_shard_then_the_fewest_shards_at_or_below_the_ceiling(n_points, shards):
    plan = shard_plan(n_points, AUTO)
    assert plan.n_shards == shards
    assert max(plan.sizes) <= (MAX_ONE_SHARD_POINTS if shards == 1 else MAX_AUTO_POINTS)
    assert "auto" in plan.reason


def test_auto_reason_records_what_was_measured_for_the_combination():
    assert "barycenter combination matched the full-data posterior" in shard_plan(20_000_000, AUTO).reason
    scott = shard_plan(20_000_000, cmc_settings(combination="scott"))
    assert scott.n_shards == 400 and "means were measured up to 0.28 full-data sd off" in scott.reason
    assert shard_plan(59_700, AUTO).reason == "auto: 59700 points (<= 14000000) fit one shard; no split"


def test_shards_smaller_than_measured_get_a_warning(caplog):
    from heterodyne.cmc.plan import MIN_MEASURED_POINTS

    with caplog.at_level(logging.WARNING, logger="heterodyne"):
        shard_plan(20 * MIN_MEASURED_POINTS, cmc_settings(max_points_per_shard=MIN_MEASURED_POINTS))
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="heterodyne"):
        shard_plan(20 * MIN_MEASURED_POINTS, cmc_settings(max_points_per_shard=MIN_MEASURED_POINTS - 1))
    assert "below the" in caplog.text


def test_large_integer_shard_size_is_accepted_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="heterodyne"):
        plan = shard_plan(120_000, cmc_settings(max_points_per_shard=60_000, seed=1))
    assert plan.n_shards == 2
    assert "slow" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="heterodyne"):  # one shard: on tiles, no warning
        assert shard_plan(120_000, cmc_settings(max_points_per_shard=200_000)).n_shards == 1
    assert not caplog.records


def test_shard_seeds_differ_per_shard_and_run_seed():
    seeds = {shard_seed(run, shard) for run in (1, 2) for shard in range(4)}
    assert len(seeds) == 8
    assert shard_seed(1, 3) == shard_seed(1, 3)


def test_coordinates_round_trip_and_jacobian_matches_finite_differences():
    rng = np.random.default_rng(0)
    lower, upper = np.array([1.0, -2.0, 0.0]), np.array([1e5, 2.0, 1.0])
    x = np.array([2e4, 0.3, 0.25])
    covariance = np.diag([1e6, 1e-2, 1e-4])
    geo = geometry.whitening(x, covariance, lower, upper, variance_factor=4)
    arrays = [jnp.asarray(a) for a in (geo.center, geo.factor, geo.lower, geo.upper)]
    np.testing.assert_allclose(geometry.parameters_of(jnp.zeros(3), *arrays), x, rtol=1e-12)
    z = jnp.asarray(rng.standard_normal(3) * 0.5)
    jacobian = jax.jacfwd(lambda v: geometry.parameters_of(v, *arrays))(z)
    expected = np.log(abs(np.linalg.det(np.asarray(jacobian)))) - np.log(abs(np.linalg.det(geo.factor)))
    assert float(geometry.log_abs_jacobian(z, *arrays)) == pytest.approx(expected, rel=1e-10)


def test_whitened_coordinates_invert_the_sampler_map_and_the_jacobian_matches_finite_differences():
    lower, upper = np.array([1.0, -2.0, 0.0]), np.array([1e5, 2.0, 1.0])
    covariance = np.array([[1e6, 10.0, 0.05], [10.0, 1e-2, 1e-4], [0.05, 1e-4, 1e-4]])
    geo = geometry.whitening(np.array([2e4, 0.3, 0.25]), covariance, lower, upper, variance_factor=2)
    z = np.random.default_rng(9).standard_normal((2, 5, 3))
    x = geometry.parameters_from(z, geo)
    arrays = [jnp.asarray(a) for a in (geo.center, geo.factor, geo.lower, geo.upper)]
    np.testing.assert_allclose(x, np.asarray(geometry.parameters_of(jnp.asarray(z), *arrays)), rtol=1e-13)
    np.testing.assert_allclose(geometry.whitened_of(x, geo), z, rtol=1e-8, atol=1e-8)
    step = 1e-6
    columns = [(geometry.parameters_from(z[0, 0] + step * e, geo) - geometry.parameters_from(z[0, 0] - step * e, geo))
               / (2 * step) for e in np.eye(3)]
    # rtol for the entries, atol for an entry that is 0 up to round-off (the factor's eigenvectors)
    np.testing.assert_allclose(geometry.gaussian_jacobian(z[0, 0], geo), np.array(columns).T, rtol=1e-6, atol=1e-12)


def test_whitening_scales_the_covariance_by_the_variance_factor():
    lower, upper = np.zeros(2), np.ones(2) * 10
    x, covariance = np.array([5.0, 5.0]), np.array([[1e-4, 5e-5], [5e-5, 1e-4]])
    geo = geometry.whitening(x, covariance, lower, upper, variance_factor=9)
    slope = 1.0 / (10 * 0.5 * 0.5)  # du/dx at the middle of the bounds
    np.testing.assert_allclose(geo.factor @ geo.factor.T, 9 * covariance * slope**2, rtol=1e-10)


def test_missing_covariance_rows_fall_back_to_a_unit_scale():
    x = np.array([0.5, 0.5])
    covariance = np.array([[1e-4, np.nan], [np.nan, np.nan]])
    geo = geometry.whitening(x, covariance, np.zeros(2), np.ones(2), variance_factor=1)
    spread = geo.factor @ geo.factor.T
    assert spread[1, 1] == pytest.approx(geometry.FALLBACK_U_SD**2)
    assert spread[0, 1] == 0.0


def unadjusted(geo):
    """The likelihood adjustment without an honest covariance: the identity."""
    nan = np.full((geo.center.size,) * 2, np.nan)
    center = geometry.parameters_from(np.zeros_like(geo.center), geo)
    return calibration.adjustment(calibration.Target(nan, nan, center), geo)


@pytest.mark.parametrize(("combination", "likelihood_power", "prior_power"),
                         [("scott", 1.0, 0.25), ("barycenter", 100 / 26, 1.0)])
def test_each_combination_tempers_likelihood_and_prior_so_the_prior_counts_once(combination, likelihood_power,
                                                                                prior_power):
    """log p_k = λ (−½ Σ r²) + ρ log π + log |dx/dz|, term by term: with 26 of 100 points in shard k
    of K = 4, scott has (λ, ρ) = (1, 1/4) (the product of 4 shards has the prior once) and
    barycenter (100/26, 1) (every shard is a full-width posterior with the prior once)."""
    from nlsq_helpers import fit_config

    from heterodyne.cmc.posterior import powers
    from heterodyne.nlsq.problem import weighted_residuals
    from heterodyne.nlsq.setup import build_problem
    from heterodyne.parameters import PHYSICS_PARAMETERS

    assert powers(combination, 100, 26, 4) == pytest.approx((likelihood_power, prior_power), rel=1e-15)
    fixed = {p.name: p.default for p in PHYSICS_PARAMETERS if p.name not in ("D0_ref", "v0")}
    config = fit_config({"D0_ref": 2e4, "v0": 1000.0}, fixed, scaling={"mode": "fixed"})
    rng = np.random.default_rng(1)
    c2 = 1.0 + 0.01 * rng.standard_normal((3, 20, 20))
    problem, _ = build_problem(config, c2=c2, q=np.full(3, 0.009), phi=np.array([0.0, 45.0, 90.0]),
                               t=np.arange(1, 21) * 1e-3, dt=1e-3)
    geo = geometry.unit_geometry(np.array([2e4, 1000.0]), problem.lower[problem.vary], problem.upper[problem.vary])
    normal = Priors(np.array([1, 1]), np.array([1.9e4, 900.0]), np.array([500.0, 30.0]))
    z = jnp.array([0.1, -0.2])
    arrays = [jnp.asarray(a) for a in (geo.center, geo.factor, geo.lower, geo.upper)]
    x = geometry.parameters_of(z, *arrays)
    log_pi = float(log_prior(x, jnp.asarray(normal.kind), jnp.asarray(normal.mu), jnp.asarray(normal.sigma)))
    assert log_pi < -1.0  # the prior matters at this z
    constants, data = model_arguments(problem, geo, unadjusted(geo), normal, powers(combination, 100, 26, 4),
                                      problem.points.size + 7)
    n_contrast = len(problem.scaling.contrast)
    residuals = np.asarray(weighted_residuals(x, constants.problem, *data, n_contrast=n_contrast))
    expected = (-0.5 * likelihood_power * residuals @ residuals + prior_power * log_pi
                + float(geometry.log_abs_jacobian(z, *arrays)))
    assert float(log_density(z, constants, data, n_contrast=n_contrast)) == pytest.approx(expected, rel=1e-10)


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
        constants, data = model_arguments(problem, geo, unadjusted(geo), uniform, (1.0, 1.0), size)
        values.append(float(log_density(z, constants, data, n_contrast=len(problem.scaling.contrast))))
    assert values[0] == values[1]


def gaussian_shards(rng, means, covariances, n_chains=2, n_draws=20_000):
    return [rng.multivariate_normal(m, c, size=(n_chains, n_draws)) for m, c in zip(means, covariances, strict=True)]


def covariances_of(shards):
    return [regularised_covariance(d)[0] for d in shards]


def test_consensus_of_gaussian_shards_is_the_exact_product():
    rng = np.random.default_rng(2)
    means = [np.array([1.0, 2.0]), np.array([1.2, 1.9]), np.array([0.9, 2.2])]
    covariances = [np.array([[1.0, 0.3], [0.3, 0.5]]), np.array([[0.8, -0.1], [-0.1, 0.6]]), np.eye(2) * 0.7]
    shards = gaussian_shards(rng, means, covariances)
    precision = sum(np.linalg.inv(c) for c in covariances)
    exact_cov = np.linalg.inv(precision)
    exact_mean = exact_cov @ sum(np.linalg.inv(c) @ m for c, m in zip(covariances, means, strict=True))
    combined = scott.consensus_draws(shards, covariances_of(shards)).reshape(-1, 2)
    standard_error = np.sqrt(np.diag(exact_cov) / combined.shape[0])
    assert np.all(np.abs(combined.mean(axis=0) - exact_mean) < 4 * standard_error)
    np.testing.assert_allclose(np.cov(combined, rowvar=False), exact_cov, rtol=0.05, atol=0.01)
    product_mean, product_cov = scott.gaussian_product(shards, covariances_of(shards))
    assert np.all(np.abs(product_mean - exact_mean) < 4 * standard_error)
    np.testing.assert_allclose(product_cov, exact_cov, rtol=0.05)


def test_one_shard_combination_is_the_shard_itself():
    draws = np.random.default_rng(3).standard_normal((2, 100, 3))
    np.testing.assert_allclose(scott.consensus_draws([draws], covariances_of([draws])), draws, rtol=1e-12,
                               atol=1e-12)
    assert barycenter.barycenter_draws([draws], covariances_of([draws]))[0] is draws


def random_covariance(rng, size):
    root = rng.standard_normal((size, size))
    return root @ root.T + 0.1 * np.eye(size)


def test_gaussian_barycenter_is_the_fixed_point_and_each_transport_lands_on_it():
    rng = np.random.default_rng(7)
    covariances = [random_covariance(rng, 4) for _ in range(5)]
    means = [rng.standard_normal(4) for _ in range(5)]
    mean, target = barycenter.gaussian_barycenter(means, covariances)
    np.testing.assert_allclose(mean, np.mean(means, axis=0), rtol=1e-12)
    root = barycenter.symmetric_power(target, 0.5)
    fixed_point = sum(barycenter.symmetric_power(root @ c @ root, 0.5) for c in covariances) / len(covariances)
    np.testing.assert_allclose(fixed_point, target, rtol=1e-9, atol=1e-12)
    for c in covariances:
        a = barycenter.transport_matrix(c, target)
        np.testing.assert_allclose(a, a.T, atol=1e-10)  # an optimal linear map is symmetric ...
        assert np.linalg.eigvalsh(a).min() > 0         # ... and positive definite
        np.testing.assert_allclose(a @ c @ a.T, target, rtol=1e-9, atol=1e-12)
    # commuting covariances: the barycenter's sds are the average sds
    diagonal = [np.diag([1.0, 4.0]), np.diag([9.0, 1.0])]
    _, target = barycenter.gaussian_barycenter([np.zeros(2)] * 2, diagonal)
    np.testing.assert_allclose(target, np.diag([4.0, 2.25]), rtol=1e-10)


def skewed(rng, size):
    """Draws of a correlated, skewed 2-d law: M g with g standardised Gamma(3) pairs."""
    g = (rng.gamma(3.0, size=(*size, 2)) - 3.0) / np.sqrt(3.0)
    return g @ np.array([[1.0, 0.0], [0.7, 0.5]]).T


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_barycenter_of_shifted_skewed_shards_keeps_their_shape(seed):
    """Shards that are one skewed law shifted by different amounts: the barycenter is that law
    shifted by the average shift. Each marginal passes a two-sample Kolmogorov-Smirnov test
    against exact draws; the Gaussian barycenter with the same mean and covariance fails it."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    shifts = rng.standard_normal((6, 2))
    shards = [shift + skewed(rng, (2, 3000)) for shift in shifts]
    combined, mean, covariance = barycenter.barycenter_draws(shards, covariances_of(shards))
    exact = shifts.mean(axis=0) + skewed(rng, (60_000,))
    gaussian = rng.multivariate_normal(mean, covariance, size=6000)
    for k in range(2):
        assert stats.ks_2samp(combined[..., k].ravel(), exact[:, k]).pvalue > 1e-3
        assert stats.ks_2samp(gaussian[:, k], exact[:, k]).pvalue < 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_barycenter_matches_the_full_posterior_where_scott_in_theta_does_not(seed):
    """A rate near its lower bound (D0-like), correlated with a fraction; each shard's likelihood is
    Gaussian in the logit coordinates u, so in θ the posteriors are skewed (lognormal-like).
    With K = 8 shards whose means scatter as exchangeable shards do, the full-data posterior is
    N(mean of shard centres, τ² C) in u. Barycenter (each shard full-width, N(μ_k, τ² C)): mean
    within 4 Monte Carlo s.e. and sd within 4 s.e. of the exact draws'. Scott's θ-space average of
    the 1/K-data shards N(μ_k, K τ² C) misses the mean by more than 10 s.e."""
    from heterodyne.cmc.combination import combination_of

    rng = np.random.default_rng(seed)
    n_shards, tau, n_draws = 8, 0.2, 4000
    lower, upper = np.array([1.0, 0.0]), np.array([1e6 + 1.0, 1.0])
    centre = np.array([np.log(2e4 / 1e6), 0.0])
    factor = tau * np.linalg.cholesky(np.array([[1.0, 0.8], [0.8, 1.0]]))
    scatter = rng.standard_normal((n_shards, 2)) @ factor.T * np.sqrt(n_shards)
    shard_centres = centre + scatter - scatter.mean(axis=0)

    def draws(middle, variance_factor, size):
        u = middle + rng.standard_normal((*size, 2)) @ factor.T * np.sqrt(variance_factor)
        return lower + (upper - lower) / (1.0 + np.exp(-u))

    exact = draws(centre, 1.0, (200_000,))
    full = [draws(c, 1.0, (2, n_draws)) for c in shard_centres]
    combined = combination_of("barycenter", full, geometry.Geometry(centre, factor, lower, upper))[0].reshape(-1, 2)
    standard_error = exact.std(axis=0) / np.sqrt(combined.shape[0])
    assert np.all(np.abs(combined.mean(axis=0) - exact.mean(axis=0)) < 4 * standard_error)
    sd_error = 1 / np.sqrt(2 * combined.shape[0])
    assert np.all(np.abs(combined.std(axis=0) / exact.std(axis=0) - 1) < 4 * sd_error)

    partial = [draws(c, n_shards, (2, n_draws)) for c in shard_centres]
    scott_geometry = geometry.Geometry(centre, factor * np.sqrt(n_shards), lower, upper)
    scott = combination_of("scott", partial, scott_geometry)[0].reshape(-1, 2)
    assert np.abs(scott.mean(axis=0) - exact.mean(axis=0))[0] > 10 * standard_error[0]


def test_a_shard_that_does_not_move_gets_a_regularised_covariance_and_the_combinations_stay_finite():
    rng = np.random.default_rng(8)
    good = rng.standard_normal((2, 40, 3)) * [1e3, 1.0, 1e-2] + [2e4, 0.0, 0.3]
    stuck = good.copy()
    stuck[..., 2] = 0.3  # a parameter pinned (a bound, a chain that never moved)
    few = good[:, :1]    # two draws of three parameters: rank 1
    assert regularised_covariance(good)[1] is False
    for bad in (stuck, few):
        covariance, regularised = regularised_covariance(bad)
        assert regularised and np.all(np.isfinite(np.linalg.inv(covariance)))
    from heterodyne.cmc.combination import combination_of

    shards = [good, stuck, np.repeat(few, 40, axis=1)]
    lower, upper = np.array([1.0, -10.0, 0.0]), np.array([1e6, 10.0, 1.0])
    geo = geometry.whitening(np.array([2e4, 0.0, 0.3]), np.diag([1e6, 1.0, 1e-4]), lower, upper, 1.0)
    for method in ("barycenter", "scott"):
        combined, mean, covariance, regularised = combination_of(method, shards, geo)
        assert regularised == [1, 2], method
        assert np.all(np.isfinite(combined)) and np.all(np.isfinite(mean)) and np.all(np.isfinite(covariance))
        if method == "barycenter":  # combined in z and mapped back: inside the bounds
            assert np.all((combined > lower) & (combined < upper))


def test_cmc_plan_command_prints_the_plan_from_a_count_or_from_the_data(tmp_path, capsys):
    import json

    from nlsq_helpers import simulate

    from heterodyne.cli import main

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
    from heterodyne.cmc.workers import max_workers, shard_layout
    from heterodyne.errors import HeterodyneError

    monkeypatch.setenv("HETERODYNE_NUM_WORKERS", "3")
    assert max_workers(None) == 3 and max_workers(2) == 2
    assert shard_layout(16, n_shards=10, n_chains=1).workers == 3   # the environment caps the workers
    assert shard_layout(16, n_shards=10, n_chains=1, configured_workers=2).workers == 2
    assert shard_layout(2, n_shards=10, n_chains=1).workers == 2   # never above the thread budget
    assert shard_layout(8, n_shards=1, n_chains=1).workers == 1    # nor above the shards
    monkeypatch.setenv("HETERODYNE_NUM_WORKERS", "0")
    with pytest.raises(HeterodyneError, match="HETERODYNE_NUM_WORKERS='0'"):
        max_workers(None)
    monkeypatch.delenv("HETERODYNE_NUM_WORKERS")
    monkeypatch.setattr("os.sched_getaffinity", lambda _: set(range(16)))
    assert max_workers(None) == 7  # floor(16 / 2) - 1


@pytest.mark.parametrize(("cores", "threads", "shards", "chains", "workers", "per_worker", "side_by_side"), [
    (1, 1, 1, 4, 1, 1, 1),      # one core: everything one after another
    (2, 2, 1, 4, 1, 2, 2),      # the 2-core box: two chains at once
    (2, 2, 5, 4, 1, 2, 2),      # 5 shards there: one worker, two chains at once (not one worker idle)
    (2, 2, 5, 1, 1, 2, 1),      # one chain per shard: ⌊2/2⌋ − 1 = 0 → 1 worker at most by default
    (16, 16, 1, 4, 1, 16, 4),   # one shard on 16 cores: 4 chains of 4 threads
    (16, 16, 5, 4, 4, 4, 4),    # 5 shards: 4 workers x 4 chains, every core busy
    (64, 64, 30, 4, 16, 4, 4),  # 30 shards on 64 cores: 16 workers x 4 chains
    (64, 64, 30, 1, 30, 2, 1),  # one chain per shard: 30 workers (W_max 31) of 2 threads
    (64, 64, 1, 4, 1, 64, 4),   # one shard on 64 cores: 4 chains of 16 threads
    (64, 3, 5, 4, 1, 3, 3),     # a budget below the machine's cores is what counts
])
def test_the_layout_keeps_the_thread_budget_busy_for_one_shard_or_thirty(
        monkeypatch, cores, threads, shards, chains, workers, per_worker, side_by_side):
    from heterodyne.cmc.workers import shard_layout

    monkeypatch.delenv("HETERODYNE_NUM_WORKERS", raising=False)
    monkeypatch.setattr("os.sched_getaffinity", lambda _: set(range(cores)))
    layout = shard_layout(threads, n_shards=shards, n_chains=chains)
    assert (layout.workers, layout.threads, layout.side_by_side) == (workers, per_worker, side_by_side)
    assert layout.workers * layout.threads <= threads < layout.workers * (layout.threads + 1)  # the whole budget
    assert layout.threads_per_chain == max(1, per_worker // side_by_side)
