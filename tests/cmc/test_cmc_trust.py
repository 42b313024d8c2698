"""The shard-agreement (trust) test against shards whose spread is known."""

import numpy as np


def exchangeable_shards(rng, n_shards, spread):
    """Shards of 1/K of the data (Scott's sub-posteriors, sd 1 each): their means scatter with sd
    ``spread`` (1 for exchangeable shards)."""
    return [rng.standard_normal((2, 2000, 2)) + spread * rng.standard_normal(2) for _ in range(n_shards)]


def test_trust_accepts_exchangeable_shards_and_names_the_shard_that_disagrees():
    from heterodyne.cmc.trust import shard_spread

    rng = np.random.default_rng(4)
    accepted = 0
    for _ in range(20):
        shards = exchangeable_shards(rng, 10, 1.0)
        section, warnings = shard_spread(("a", "b"), list(range(10)), shards, [1.0] * 10, [np.full(2, 4000.0)] * 10,
                                         1.0)
        accepted += section["trusted"] and not warnings
    assert accepted >= 18  # false alarms at 1 % (Bonferroni over 2 parameters): 20 in 20 expected
    shards[3] = shards[3] + np.array([0.0, 8.0])
    section, warnings = shard_spread(("a", "b"), list(range(10)), shards, [1.0] * 10, [np.full(2, 4000.0)] * 10, 1.0)
    assert not section["trusted"] and section["spread_ratio"]["b"] > 2
    assert len(warnings) == 1 and "b (" in warnings[0] and "shard 3" in warnings[0] and "a (" not in warnings[0]
    # full-width shards (likelihood^K, K = 10): sds 1/√K of the above, the same spread of means
    full_width = [(d - d.mean(axis=(0, 1))) / np.sqrt(10) + d.mean(axis=(0, 1))
                  for d in exchangeable_shards(rng, 10, 1.0)]
    section, _ = shard_spread(("a", "b"), list(range(10)), full_width, [10.0] * 10, [np.full(2, 4000.0)] * 10, 1.0)
    assert section["trusted"]
    section, _ = shard_spread(("a", "b"), list(range(10)), full_width, [1.0] * 10, [np.full(2, 4000.0)] * 10, 1.0)
    assert not section["trusted"] and min(section["spread_ratio"].values()) > 2  # λ_k forgotten


def test_trust_rejects_shards_that_agree_too_well_and_is_absent_for_one_shard():
    from heterodyne.cmc.trust import shard_spread

    rng = np.random.default_rng(5)
    shards = exchangeable_shards(rng, 10, 0.05)  # sds 20 times the spread of their means: not sampling sds
    section, warnings = shard_spread(("a", "b"), list(range(10)), shards, [1.0] * 10, [np.full(2, 4000.0)] * 10, 1.0)
    assert not section["trusted"] and max(section["spread_ratio"].values()) < 0.3 and warnings
    assert shard_spread(("a", "b"), [0], shards[:1], [1.0], [np.full(2, 4000.0)], 1.0) == (None, [])


def frame_correlated_shards(rng, n_shards, honest_factor):
    """A straight line fitted to the points (i, j), i ≤ j, of 60 frames whose noise is shared by
    frames (e_i + e_j + η, sd 1, 1 and 0.5; σ = 0.5 assumed, as a σ from neighbouring-frame
    differences would be): χ²_red ≈ 9. Each of ``n_shards`` random point shards gets barycenter
    posterior draws N(θ̂ + C⁻¹(θ̂_k − θ̂), Σ_honest) with Σ_honest = ``honest_factor`` Σ_model
    (C = Σ_honest^-½ Σ_model^½, the calibration's adjustment), as the adjusted sampler gives.
    Returns (draws per shard, likelihood powers, χ²_red)."""
    i, j = np.triu_indices(60)
    design = np.column_stack([np.ones(i.size), (i + j) / 120.0, (j - i) / 60.0])
    frame = rng.standard_normal(60)
    y = design @ [1.0, 2.0, -1.0] + frame[i] + frame[j] + 0.5 * rng.standard_normal(i.size)
    estimate = np.linalg.lstsq(design, y, rcond=None)[0]
    residuals = y - design @ estimate
    chi2_reduced = float(residuals @ residuals / (i.size - 3) / 0.25)
    model = 0.25 * np.linalg.inv(design.T @ design)
    shards, powers = [], []
    for points in np.array_split(rng.permutation(i.size), n_shards):
        shard_estimate = np.linalg.lstsq(design[points], y[points], rcond=None)[0]
        centre = estimate + np.sqrt(honest_factor) * (shard_estimate - estimate)
        shards.append(rng.multivariate_normal(centre, honest_factor * model, size=(2, 2000)))
        powers.append(i.size / points.size)
    return shards, powers, chi2_reduced


def test_trust_accepts_random_point_shards_of_frame_correlated_data_only_with_chi2_reduced():
    """Random point shards share every frame: their means scatter by the points' own variance,
    χ²_red times the independent-noise one (and the adjustment's magnification), not by the honest one."""
    from heterodyne.cmc.trust import shard_spread

    rng = np.random.default_rng(6)
    names, ess = ("a", "b", "c"), [np.full(3, 4000.0)] * 8
    accepted = rejected_without = 0
    for _ in range(20):
        shards, powers, chi2_reduced = frame_correlated_shards(rng, 8, 100.0)
        assert 5 < chi2_reduced < 14
        section, _ = shard_spread(names, list(range(8)), shards, powers, ess, chi2_reduced)
        accepted += section["trusted"]
        section, _ = shard_spread(names, list(range(8)), shards, powers, ess, 1.0)
        rejected_without += not section["trusted"]
    assert accepted >= 18 and rejected_without >= 15
