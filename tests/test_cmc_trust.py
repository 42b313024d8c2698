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
        section, warnings = shard_spread(("a", "b"), list(range(10)), shards, [1.0] * 10, [np.full(2, 4000.0)] * 10)
        accepted += section["trusted"] and not warnings
    assert accepted >= 18  # false alarms at 1 % (Bonferroni over 2 parameters): 20 in 20 expected
    shards[3] = shards[3] + np.array([0.0, 8.0])
    section, warnings = shard_spread(("a", "b"), list(range(10)), shards, [1.0] * 10, [np.full(2, 4000.0)] * 10)
    assert not section["trusted"] and section["spread_ratio"]["b"] > 2
    assert len(warnings) == 1 and "b (" in warnings[0] and "shard 3" in warnings[0] and "a (" not in warnings[0]
    # full-width shards (likelihood^K, K = 10): sds 1/√K of the above, the same spread of means
    full_width = [(d - d.mean(axis=(0, 1))) / np.sqrt(10) + d.mean(axis=(0, 1))
                  for d in exchangeable_shards(rng, 10, 1.0)]
    section, _ = shard_spread(("a", "b"), list(range(10)), full_width, [10.0] * 10, [np.full(2, 4000.0)] * 10)
    assert section["trusted"]
    section, _ = shard_spread(("a", "b"), list(range(10)), full_width, [1.0] * 10, [np.full(2, 4000.0)] * 10)
    assert not section["trusted"] and min(section["spread_ratio"].values()) > 2  # λ_k forgotten


def test_trust_rejects_shards_that_agree_too_well_and_is_absent_for_one_shard():
    from heterodyne.cmc.trust import shard_spread

    rng = np.random.default_rng(5)
    shards = exchangeable_shards(rng, 10, 0.05)  # sds 20 times the spread of their means: not sampling sds
    section, warnings = shard_spread(("a", "b"), list(range(10)), shards, [1.0] * 10, [np.full(2, 4000.0)] * 10)
    assert not section["trusted"] and max(section["spread_ratio"].values()) < 0.3 and warnings
    assert shard_spread(("a", "b"), [0], shards[:1], [1.0], [np.full(2, 4000.0)]) == (None, [])
