"""A shard's diagnostics on draws with known defects, and against ArviZ's estimators."""

import arviz
import numpy as np
import pytest

from heterodyne.cmc.diagnostics import SATURATED_WARN_FRACTION, chain_diagnostics, e_bfmi, shard_report
from heterodyne.cmc.sampler import MAX_TREE_DEPTH


def report_with_steps(num_steps: np.ndarray) -> dict:
    """The report of well-mixed Gaussian draws (4 chains × 500, 2 parameters) with ``num_steps``."""
    rng = np.random.default_rng(0)
    draws = rng.standard_normal((4, 500, 2))
    return shard_report(("a", "b"), draws, np.zeros((4, 500), bool), rng.standard_normal((4, 500)), num_steps, 1.05)


def test_draws_at_the_tree_depth_limit_are_warned_about_beyond_the_fraction():
    limit = 2**MAX_TREE_DEPTH - 1
    steps = np.full((4, 500), 7)
    assert report_with_steps(steps)["warnings"] == []
    allowed = int(SATURATED_WARN_FRACTION * steps.size)
    steps.flat[:allowed] = limit
    assert report_with_steps(steps)["warnings"] == []
    steps.flat[:allowed + 1] = limit
    report = report_with_steps(steps)
    assert report["warnings"] == [f"{allowed + 1} of 2000 draws stopped at NUTS's tree-depth limit (1023 leapfrog "
                                  "steps): the posterior is far from the NLSQ Gaussian; sampling is slow and may "
                                  "mix poorly"]
    assert not report["flagged"]


def autoregressive_draws(seed: int, n_draws: int) -> np.ndarray:
    """(4, n_draws, 2) AR(1) chains: a Gaussian one and a skewed one (its exponential) whose first
    chain sits apart, so R-hat, the folded R-hat and the tail ESS all have work to do."""
    rng = np.random.default_rng(seed)
    rho = rng.uniform(0.0, 0.9)
    noise = rng.standard_normal((4, n_draws, 2))
    draws = np.zeros_like(noise)
    draws[:, 0] = noise[:, 0]
    for t in range(1, n_draws):
        draws[:, t] = rho * draws[:, t - 1] + noise[:, t]
    draws[..., 1] = np.exp(draws[..., 1])
    draws[0, :, 1] += rng.uniform(0.0, 1.0)
    return draws


@pytest.mark.parametrize("n_draws", [500, 501, 40])
def test_rank_normalised_r_hat_and_e_bfmi_equal_arviz(n_draws):
    for seed in range(5):
        draws = autoregressive_draws(seed, n_draws)
        expected = [float(arviz.rhat(draws[..., k], method="rank")) for k in range(2)]
        np.testing.assert_allclose(chain_diagnostics(draws)["r_hat"], expected, rtol=1e-12)
        energy = draws[..., 0].cumsum(axis=1)
        np.testing.assert_allclose(e_bfmi(energy), arviz.bfmi(energy), rtol=1e-12)


def test_bulk_and_tail_ess_agree_with_arviz_at_500_draws():
    """NumPyro's and ArviZ's ESS estimators (both Geyer's initial monotone sequence) differ in how
    they truncate the autocorrelation sum: measured up to 1.7 % (bulk) and 1.8 % (tail) over 40
    seeds of these chains at 4 × 500 draws; the ESS is a rough quantity and only its order of
    magnitude is tested against MIN_ESS_PER_CHAIN."""
    for seed in range(10):
        draws = autoregressive_draws(seed, 500)
        ours = chain_diagnostics(draws)
        for key, method in (("ess_bulk", "bulk"), ("ess_tail", "tail")):
            expected = [float(arviz.ess(draws[..., k], method=method)) for k in range(2)]
            np.testing.assert_allclose(ours[key], expected, rtol=0.03)


def test_a_parameter_that_never_moved_has_no_r_hat_and_flags_the_shard():
    draws = np.random.default_rng(0).standard_normal((4, 100, 2))
    draws[..., 1] = 0.5
    stats = chain_diagnostics(draws)
    assert np.isfinite(stats["r_hat"][0]) and np.isnan(stats["r_hat"][1])
    report = shard_report(("a", "b"), draws, np.zeros((4, 100), bool), draws[..., 0], np.full((4, 100), 7), 1.05)
    assert report["flagged"] and report["reasons"] == ["R-hat is not finite (a chain did not move)"]
