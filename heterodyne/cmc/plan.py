"""The shard plan: how many shards, which points each one gets.

Shards are random, exchangeable subsets of the strict-upper-triangle points of every selected
angle (a seeded permutation cut into K nearly equal parts), never contiguous time blocks. The
plan is a pure function of the point count, the ``optimization.cmc`` settings and the seed, so
separate shard jobs of a workflow compute the same plan without talking to each other.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from heterodyne.config.tree import CmcSettings

log = logging.getLogger("heterodyne")

MAX_AUTO_POINTS = 50_000
"""Per-shard ceiling of ``"auto"`` once it splits: such shards are sampled point by point, and every
NUTS leapfrog step costs time linear in shard size."""
MAX_ONE_SHARD_POINTS = 14_000_000
"""``"auto"`` keeps one shard up to this many points (7 angles × 2 000 frames, the largest size whose
shard job's memory was measured: 3.9 GB with two chains side by side). One shard holds every pair
and is sampled on tiles (:mod:`heterodyne.cmc.tiles`), so no combination is needed, and it was the
cheaper run at every size measured: at 1 000 frames × 3 angles it took 22 leapfrog steps a draw,
where two of the 30 shards of 50 000 points that ``auto`` took before took 96 and 659, each a step
costing 15 % of the one shard's, and at 400 frames 36–45 against 96–258 for the five shards
(docs/decisions/2026-12-05-cmc-likelihood-on-tiles.md)."""
MIN_MEASURED_POINTS = 2_985
"""The smallest shards at which the barycenter combination was measured to match the full-data
posterior on near-Gaussian data (20 shards of N = 200 × 3 angles,
docs/decisions/2026-12-01-cmc-consensus-near-gaussian.md); smaller ones get a warning. Curved
posteriors need larger shards (docs/cmc.md, section 4)."""
AUTO_REASONS = {
    "barycenter": "the barycenter combination matched the full-data posterior (sd within 3 %, mean within "
                  "0.16 sd) for shards down to 2985 points of a near-Gaussian posterior; on curved posteriors "
                  "(a D0-alpha ridge, heavy tails) only at 2 shards (docs/cmc.md, section 4)",
    "scott": "Scott's average needs near-Gaussian sub-posteriors, so the fewest, largest shards; at 5 shards "
             "of 11940 points its means were measured up to 0.28 full-data sd off",
}


@dataclass(frozen=True)
class ShardPlan:
    """K shards of nearly equal size over ``n_points`` points, cut from a permutation seeded by ``seed``."""

    n_points: int
    n_shards: int
    seed: int
    max_points_per_shard: int | str
    reason: str

    @property
    def sizes(self) -> list[int]:
        """Points per shard (the first ``n_points mod K`` shards get one more)."""
        base, extra = divmod(self.n_points, self.n_shards)
        return [base + (1 if k < extra else 0) for k in range(self.n_shards)]

    def point_indices(self, shard: int) -> np.ndarray:
        """Sorted indices (into the run's point list) of the points of ``shard``."""
        if not 0 <= shard < self.n_shards:
            raise IndexError(f"shard {shard} outside 0..{self.n_shards - 1}")
        return np.sort(np.array_split(self._permutation, self.n_shards)[shard])

    @cached_property
    def _permutation(self) -> np.ndarray:
        """The seeded permutation of all points, drawn once per plan."""
        return np.random.default_rng([self.seed, self.n_points]).permutation(self.n_points)

    def describe(self) -> dict:
        """The plan as plain values (for result.json and ``heterodyne cmc-plan``)."""
        return {
            "n_shards": self.n_shards,
            "n_points": self.n_points,
            "shard_sizes": self.sizes,
            "seed": self.seed,
            "max_points_per_shard": self.max_points_per_shard,
            "reason": self.reason,
        }


def shard_plan(n_points: int, settings: CmcSettings) -> ShardPlan:
    """The plan for ``n_points`` points under the resolved ``optimization.cmc`` ``settings``.

    ``"auto"``: one shard up to ``MAX_ONE_SHARD_POINTS`` points, else K = ⌈n / 50 000⌉, the fewest
    shards whose size stays under the step-cost ceiling (over 280, each sampled point by
    point); ``AUTO_REASONS`` gives what was measured for each combination at smaller shards. An
    integer m gives K = ⌈n / m⌉ (with a warning when it splits into shards above 50 000 points, or
    below the smallest measured size when the shards get that small).
    """
    if n_points < 1:
        raise ValueError("a shard plan needs at least one point")
    requested = settings.max_points_per_shard
    if isinstance(requested, str):  # "auto"
        n_shards = 1 if n_points <= MAX_ONE_SHARD_POINTS else math.ceil(n_points / MAX_AUTO_POINTS)
        size = math.ceil(n_points / n_shards)
        if n_shards == 1:
            reason = f"auto: {n_points} points (<= {MAX_ONE_SHARD_POINTS}) fit one shard; no split"
        else:
            reason = (f"auto: {n_points} points in {n_shards} shards of <= {size} points, the fewest that keep "
                      f"every shard at or below {MAX_AUTO_POINTS} points; {AUTO_REASONS[settings.combination]}")
    else:
        if MAX_AUTO_POINTS < requested < n_points:
            log.warning("max_points_per_shard = %d is above %d: every NUTS step will be slow",
                        requested, MAX_AUTO_POINTS)
        n_shards = math.ceil(n_points / requested)
        if n_shards > 1 and n_points // n_shards < MIN_MEASURED_POINTS:
            log.warning("shards of %d points are below the %d at which the combination was measured to "
                        "match the full-data posterior", n_points // n_shards, MIN_MEASURED_POINTS)
        reason = f"configured: at most {requested} points per shard"
    return ShardPlan(n_points, n_shards, settings.seed, requested, reason)
