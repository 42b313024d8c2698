"""Whether the shards disagree more (or less) than exchangeable shards should (docs/cmc.md).

Shards are random subsets of the points. Each shard's estimate differs from the full-data one
as a random subsample's mean differs from the population's: by the points' own variance,
χ²_red times the independent-noise variance, whatever the correlation between points (noise
shared by frames is shared by every shard, so it does not separate them). The curvature
adjustment (:mod:`heterodyne.cmc.calibration`) widens the shard posteriors and the distance
between their centres by the same map, so each shard's posterior mean m_k of a parameter scatters
with variance about χ²_red λ_k v_k, with v_k the shard's posterior variance and λ_k its
likelihood power (n / n_k for ``barycenter``, where v_k is the full-data variance; 1 for
``scott``, where v_k is already that of n_k points), plus the Monte Carlo error v_k / ESS_k. Per
parameter,

    χ² = Σ_k w_k (m_k − m_w)²,   w_k = 1 / (χ²_red λ_k v_k + v_k / ESS_k),   m_w = Σ w_k m_k / Σ w_k,

is χ² with K − 1 degrees of freedom. The report gives the ratio √(χ² / (K − 1)) of the observed
to the expected spread and the two-sided p-value; the consensus is not trusted when any p-value
is below ``ALPHA`` / P (Bonferroni over the P parameters): too much spread means the shards see
different posteriors (a misfit, drifting data), too little that their sds are not the sampling
sds of their means (skewed, non-Gaussian sub-posteriors).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from heterodyne.cmc.shard_covariance import flat

ALPHA = 0.01
"""Family-wise false-alarm rate of the trust test over the parameters."""


def shard_spread(names: tuple[str, ...], indices: list[int], shard_draws: list[np.ndarray],
                 likelihood_powers: list[float], ess_bulk: list[np.ndarray],
                 chi2_reduced: float) -> tuple[dict | None, list[str]]:
    """(the ``trust`` section of ``.cmc``, warnings) of the shards numbered ``indices``, with the
    NLSQ fit's ``chi2_reduced``; (None, []) for a single shard."""
    n_shards = len(shard_draws)
    if n_shards < 2:
        return None, []
    means = np.array([flat(d).mean(axis=0) for d in shard_draws])
    variances = np.array([flat(d).var(axis=0, ddof=1) for d in shard_draws])
    expected = variances * (chi2_reduced * np.asarray(likelihood_powers)[:, None]
                            + 1.0 / np.maximum(np.asarray(ess_bulk), 1.0))
    weights = 1.0 / np.maximum(expected, np.finfo(float).tiny)
    centre = (weights * means).sum(axis=0) / weights.sum(axis=0)
    chi2 = (weights * (means - centre) ** 2).sum(axis=0)
    df = n_shards - 1
    p_value = np.minimum(1.0, 2.0 * np.minimum(stats.chi2.sf(chi2, df), stats.chi2.cdf(chi2, df)))
    ratio = np.sqrt(chi2 / df)
    threshold = ALPHA / len(names)
    failing = np.flatnonzero(p_value < threshold)
    section = {
        "statistic": "chi2 of the shard means against their expected spread (chi2_red times the shards' "
                     "likelihood-power-scaled variances), K - 1 degrees of freedom",
        "degrees_of_freedom": df,
        "spread_ratio": dict(zip(names, ratio.tolist(), strict=True)),
        "p_value": dict(zip(names, p_value.tolist(), strict=True)),
        "p_threshold": threshold,
        "trusted": not failing.size,
    }
    if not failing.size:
        return section, []
    farthest = np.argmax(weights * (means - centre) ** 2, axis=0)
    listed = ", ".join(f"{names[k]} ({ratio[k]:.2f} x expected, p = {p_value[k]:.2g}, "
                       f"farthest: shard {indices[farthest[k]]})" for k in failing)
    return section, [f"shards disagree unlike exchangeable shards: {listed}; do not trust the consensus"]
