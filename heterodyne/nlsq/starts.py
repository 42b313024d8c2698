"""The starts of the global search: the configured values, the data's own estimate, draws around it.

With ``optimization.nlsq.start: auto`` (the default) the candidates are

1. the configured initial values;
2. the estimate read off the matrices before any fit (:mod:`heterodyne.nlsq.start_estimate`);
3. ``multistart − 2`` draws around the estimate, from the seed: the scale parameters (D0_ref,
   D0_sample, v0) log-uniform within a factor ``SCALE_SPREAD`` either side, the exponents
   (alpha_ref, alpha_sample, beta) uniform within ± ``EXPONENT_SPREAD``, the fraction amplitude
   f0 uniform over (0.05, 0.95), everything else at the estimate; all clipped to the bounds.

With ``start: initial`` the estimate is left out and the draws are around the configured values.
Parameters held fixed keep their configured value in every candidate.
"""

from __future__ import annotations

import numpy as np

from heterodyne.config.tree import NlsqSettings
from heterodyne.nlsq.problem import FitProblem
from heterodyne.parameters import N_PHYSICS, PHYSICS_NAMES

SCALE_SPREAD = 10.0
EXPONENT_SPREAD = 0.5
SCALE_PARAMETERS = ("D0_ref", "D0_sample", "v0")
EXPONENTS = ("alpha_ref", "alpha_sample", "beta")
FRACTION_RANGE = (0.05, 0.95)


def draws_around(centre: np.ndarray, problem: FitProblem, count: int, seed: int) -> np.ndarray:
    """``count`` physics vectors (count, 14) drawn around ``centre`` (module docstring)."""
    rng = np.random.default_rng(seed)
    lower, upper = problem.lower[:N_PHYSICS], problem.upper[:N_PHYSICS]
    draws = np.repeat(centre[None, :], count, axis=0)
    for name in SCALE_PARAMETERS:
        k = PHYSICS_NAMES.index(name)
        low, high = max(centre[k] / SCALE_SPREAD, lower[k]), min(centre[k] * SCALE_SPREAD, upper[k])
        if low > 0:
            draws[:, k] = np.exp(rng.uniform(np.log(low), np.log(high), count))
    for name in EXPONENTS:
        k = PHYSICS_NAMES.index(name)
        draws[:, k] = rng.uniform(centre[k] - EXPONENT_SPREAD, centre[k] + EXPONENT_SPREAD, count)
    draws[:, PHYSICS_NAMES.index("f0")] = rng.uniform(*FRACTION_RANGE, count)
    fixed = ~problem.vary[:N_PHYSICS]
    draws[:, fixed] = problem.initial[:N_PHYSICS][fixed]
    return np.clip(draws, lower, upper)


def candidate_starts(problem: FitProblem, c2: np.ndarray, settings: NlsqSettings) -> tuple[np.ndarray, list[str]]:
    """(the candidate physics starts (K, 14), a label for each) of ``problem`` on the matrices ``c2``."""
    configured = problem.initial[:N_PHYSICS]
    starts, labels = [configured], ["configured"]
    if settings.start == "auto":
        from heterodyne.nlsq.start_estimate import estimate_start

        estimate = estimate_start(c2, problem.q, problem.phi, problem.t, configured, problem.vary[:N_PHYSICS],
                                  problem.lower[:N_PHYSICS], problem.upper[:N_PHYSICS])
        starts.append(estimate)
        labels.append("estimate")
    count = max(settings.multistart - len(starts), 0)
    if count:
        starts.extend(draws_around(starts[-1], problem, count, settings.seed))
        labels.extend(f"draw {k + 1}" for k in range(count))
    return np.array(starts), labels
