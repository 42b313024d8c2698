"""A shard's diagnostics on draws with known defects."""

import numpy as np

from heterodyne.cmc.diagnostics import SATURATED_WARN_FRACTION, shard_report
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
