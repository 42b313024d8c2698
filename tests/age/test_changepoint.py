"""The change-point finder on windowed velocities: a jump located, its interval, the false-alarm
rate on smooth flows, robustness to error bars too small, power, determinism and bad input.

Synthetic windowed estimates: 40 disjoint windows of 5 s over ages 50–250 s, each estimate the
window's average of the true velocity plus Gaussian noise of 3 % relative standard error.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, norm

from heterodyne.age import find_change_point
from heterodyne.errors import HeterodyneError

STARTS = np.linspace(50.0, 250.0, 41)[:-1]
ENDS = STARTS + 5.0
MIDS = 0.5 * (STARTS + ENDS)
BOUNDS = np.column_stack([STARTS, ENDS])
V0, BETA, RELATIVE_ERROR = 100.0, 0.3, 0.03
JUMP_TIME = 151.3
"""Inside the window [150, 155], a quarter of the way in."""
SETS = 400
FAST_DRAWS = 4000
"""Monte Carlo draws for the many-set tests: the p-value at 1 % to ±0.0016, small beside the binomial
band of 400 sets (±0.013)."""


def power_law_average(start, end):
    """Mean of V0 t^BETA over [start, end]."""
    return V0 * (end ** (BETA + 1) - start ** (BETA + 1)) / ((BETA + 1) * (end - start))


def velocity_windows(factor: float = 1.0) -> np.ndarray:
    """Window averages of v(t) = V0 t^β, times ``factor`` from JUMP_TIME on."""
    cut = np.clip(JUMP_TIME, STARTS, ENDS)
    before = np.where(cut > STARTS, power_law_average(STARTS, np.maximum(cut, STARTS + 1e-9)) * (cut - STARTS), 0.0)
    after = np.where(cut < ENDS, power_law_average(np.minimum(cut, ENDS - 1e-9), ENDS) * (ENDS - cut), 0.0)
    return (before + factor * after) / (ENDS - STARTS)


def noisy(truth: np.ndarray, seed: int, error_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(estimates, stated errors): truth + noise of sd error_scale × 3 % × truth, stated as 3 % × truth."""
    stated = RELATIVE_ERROR * truth
    return truth + error_scale * stated * np.random.default_rng(seed).standard_normal(truth.size), stated


GLOBAL_CURVE = V0 * MIDS**BETA
"""The smooth global fit's v(t) at the mid-ages, the baseline and the step's shape of a jump by a factor."""


def binomial_band(rate: float, trials: int = SETS) -> tuple[int, int]:
    """Counts outside which a rate is off at 99.9 % (two-sided)."""
    return int(binom.ppf(0.0005, trials, rate)), int(binom.isf(0.0005, trials, rate))


@pytest.mark.parametrize("seed", range(8))
def test_a_jump_by_a_factor_is_located_within_one_window(seed):
    """v jumps by 25 % (8 stderrs per window): fires, at a boundary within one window of the jump,
    with an interval that holds it and δ̂ ≈ F − 1 (the baseline is the smooth curve itself)."""
    values, errors = noisy(velocity_windows(1.25), seed)
    found = find_change_point(MIDS, values, errors, window_bounds=BOUNDS, baseline=GLOBAL_CURVE,
                              step_shape=GLOBAL_CURVE)
    assert found.fired and found.p_value < 1e-3
    assert abs(found.step_age - JUMP_TIME) <= 5.0
    assert found.step_interval[0] <= JUMP_TIME <= found.step_interval[1]
    assert abs(found.step_size - 0.25) < 4 * found.step_stderr


@pytest.mark.parametrize("seed", range(8))
def test_a_step_on_a_straight_trend_is_located_with_the_default_trend(seed):
    """A linear flow (v = 300 + 0.5 t) that steps up by 60 (5 stderrs per window): the default
    straight line, and no window bounds (boundaries halfway between the mid-ages)."""
    truth = 300.0 + 0.5 * MIDS + 60.0 * np.clip((ENDS - JUMP_TIME) / 5.0, 0.0, 1.0)
    values, errors = noisy(truth, seed)
    found = find_change_point(MIDS, values, errors)
    assert found.fired
    assert abs(found.step_age - JUMP_TIME) <= 5.0
    assert found.step_interval[0] <= JUMP_TIME <= found.step_interval[1]
    assert abs(found.step_size - 60.0) < 4 * found.step_stderr


@pytest.mark.parametrize("trend", ["power law, baseline", "straight line, default"])
def test_false_alarm_rate_on_smooth_flows_is_the_level(trend):
    """400 smooth flows: the numbers fired at 1 % and at 5 % lie in their binomial bands."""
    p_values = []
    for seed in range(SETS):
        if trend.startswith("power"):
            values, errors = noisy(velocity_windows(), 1000 + seed)
            found = find_change_point(MIDS, values, errors, window_bounds=BOUNDS, baseline=GLOBAL_CURVE,
                                      step_shape=GLOBAL_CURVE, draws=FAST_DRAWS)
        else:
            values, errors = noisy(300.0 + 0.5 * MIDS, 1000 + seed)
            found = find_change_point(MIDS, values, errors, draws=FAST_DRAWS)
        p_values.append(found.p_value)
    p_values = np.asarray(p_values)
    for level in (0.01, 0.05):
        low, high = binomial_band(level)
        assert low <= np.count_nonzero(p_values <= level) <= high, level


def test_error_bars_too_small_fire_unless_scaled():
    """Errors stated at half their size: without scaling most smooth flows fire; scaled by χ²_red,
    the false-alarm rate is at or below the level (the p-value is that of the scale-free ratio)."""
    fired, fired_scaled = 0, 0
    for seed in range(SETS):
        values, errors = noisy(velocity_windows(), 2000 + seed, error_scale=2.0)
        options = {"window_bounds": BOUNDS, "baseline": GLOBAL_CURVE, "step_shape": GLOBAL_CURVE,
                   "draws": FAST_DRAWS}
        fired += find_change_point(MIDS, values, errors, **options).fired
        scaled = find_change_point(MIDS, values, errors, scale_errors=True, **options)
        fired_scaled += scaled.fired
        assert scaled.error_scale == pytest.approx(np.sqrt(max(1.0, scaled.chi2_red)))
    assert fired > SETS / 2
    assert fired_scaled <= binomial_band(0.01)[1]


@pytest.mark.parametrize("factor", [1.03, 1.05])
def test_power_and_interval_coverage_on_a_moderate_jump(factor):
    """Jumps by 3 % and 5 % (1 and 1.7 stderrs per window), 200 sets each. Measured power at 1 %:
    0.47 and 0.99 (lower bounds below: 0.29 and 0.92); the interval holds the jump in 0.88 and 0.94
    of the sets that fired.

    Lower bound on the power: the statistic is at least the χ² drop at the best fixed boundary,
    (N(λ, 1))² with λ that boundary's noise-free t-value of the step, and the 1 % critical value of
    the maximum over the 37 boundaries is at most the Bonferroni one, z²(1 − 0.01/74)."""
    sets, truth = 200, velocity_windows(factor)
    fired, covered = 0, 0
    for seed in range(sets):
        values, errors = noisy(truth, 3000 + seed)
        found = find_change_point(MIDS, values, errors, window_bounds=BOUNDS, baseline=GLOBAL_CURVE,
                                  step_shape=GLOBAL_CURVE, draws=FAST_DRAWS)
        fired += found.fired
        covered += found.fired and found.step_interval[0] <= JUMP_TIME <= found.step_interval[1]

    errors = RELATIVE_ERROR * truth
    t_values = []
    for boundary in range(2, 39):
        design = np.column_stack([GLOBAL_CURVE, GLOBAL_CURVE * (np.arange(40) >= boundary)]) / errors[:, None]
        covariance = np.linalg.inv(design.T @ design)
        coefficients = covariance @ design.T @ (truth / errors)
        t_values.append(abs(coefficients[1]) / np.sqrt(covariance[1, 1]))
    critical = norm.isf(0.01 / (2 * 37))
    bound = norm.sf(critical - max(t_values)) + norm.cdf(-critical - max(t_values))
    assert fired >= binom.ppf(0.0005, sets, bound)
    assert covered >= binom.ppf(0.0005, fired, 0.90)


def test_same_input_same_answer_and_the_seed_only_moves_the_monte_carlo():
    values, errors = noisy(velocity_windows(1.05), 7)
    first = find_change_point(MIDS, values, errors, window_bounds=BOUNDS)
    again = find_change_point(MIDS, values, errors, window_bounds=BOUNDS)
    other = find_change_point(MIDS, values, errors, window_bounds=BOUNDS, seed=1)
    assert first.p_value == again.p_value and first.step_interval == again.step_interval
    np.testing.assert_array_equal(first.profile_chi2, again.profile_chi2)
    assert other.statistic == first.statistic and other.step_size == first.step_size
    assert abs(other.p_value - first.p_value) < 0.01


def test_step_estimate_matches_a_least_squares_fit_at_the_chosen_boundary():
    """δ̂ and its stderr are those of the weighted least-squares fit of [1, t, step] at that boundary."""
    values, errors = noisy(300.0 + 0.5 * MIDS + 20.0 * (MIDS > JUMP_TIME), 5)
    found = find_change_point(MIDS, values, errors)
    design = np.column_stack([np.ones(40), MIDS, np.arange(40) >= found.windows_before]) / errors[:, None]
    covariance = np.linalg.inv(design.T @ design)
    coefficients = covariance @ design.T @ (values / errors)
    assert found.step_size == pytest.approx(coefficients[2], rel=1e-9)
    assert found.step_stderr == pytest.approx(np.sqrt(covariance[2, 2]), rel=1e-9)
    residual = values / errors - design @ coefficients
    assert found.chi2_red == pytest.approx(residual @ residual / 37, rel=1e-9)


OVERLAPPING = BOUNDS + np.array([0.0, 1.0])


@pytest.mark.parametrize(("arguments", "options", "message"), [
    ((MIDS, MIDS, MIDS[:-1]), {}, "differ in length"),
    ((MIDS[::-1], MIDS, np.ones(40)), {}, "mid_ages must increase strictly"),
    ((MIDS, np.where(MIDS > 100, np.nan, 1.0), np.ones(40)), {}, "estimates has a value that is not finite"),
    ((MIDS, MIDS, np.zeros(40)), {}, "stderrs must be positive"),
    ((MIDS, MIDS, np.ones(40)), {"window_bounds": OVERLAPPING}, "indices 0 and 1 overlap"),
    ((MIDS, MIDS, np.ones(40)), {"window_bounds": BOUNDS + 3.0}, "does not hold its mid-age"),
    ((MIDS, MIDS, np.ones(40)), {"baseline": np.column_stack([MIDS, 2 * MIDS])}, "linearly dependent"),
    ((MIDS, MIDS, np.ones(40)), {"level": 1.5}, "level must lie in"),
    ((MIDS[:3], MIDS[:3], np.ones(3)), {}, "too few"),
    ((MIDS, MIDS, np.ones(40)), {"step_shape": np.ones(3)}, "step_shape must be 40"),
    ((MIDS, MIDS, np.ones(40)), {"step_shape": np.where(MIDS > 200, 0.0, 1.0)}, "zero or already part"),
    ((MIDS, MIDS, np.ones(40)), {"baseline": np.column_stack([np.ones(40), MIDS > 150])}, "already part"),
])
def test_bad_input_is_refused_in_one_line(arguments, options, message):
    with pytest.raises(HeterodyneError, match=message) as caught:
        find_change_point(*arguments, **options)
    assert "\n" not in str(caught.value)
