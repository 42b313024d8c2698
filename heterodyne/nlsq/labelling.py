"""Which component is the reference: the model's exact symmetry, and the labelling a fit reports.

Swapping the two components (J_ref ↔ J_sample with f_s ↔ 1 − f_s) leaves c2 unchanged
(docs/model.md, last section), so every fit has a mirror image that the data cannot tell from it.
With the fraction's form f_s = f0 e^{f1 (t − f2)} + f3 the mirror 1 − f_s is representable only
approximately (f0 ≥ 0), so the two images of a fit differ slightly in cost, by noise.

The fit reports the labelling the configuration asks for: the reference is the component with
the smaller mean transport rate over the window (the slowly moving field), unless the configured
initial values order the two rates the other way. :func:`mirror_image` gives the other labelling of
a fit as a start for its refinement; the refined mirror replaces the fit when it has the
preferred labelling and its cost is not significantly higher (:func:`indistinguishable`).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from heterodyne.nlsq.start_estimate import rates_at
from heterodyne.parameters import PHYSICS_NAMES

REFERENCE = ("D0_ref", "alpha_ref", "D_offset_ref")
SAMPLE = ("D0_sample", "alpha_sample", "D_offset_sample")
FRACTION = ("f0", "f1", "f3")
SIGNIFICANT_CHI2 = 1.0
"""A cost difference below this many units of honest χ² (module docstring) is not significant."""

_INDEX = {name: k for k, name in enumerate(PHYSICS_NAMES)}


def mean_rates(theta: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """The mean of J_ref(t) and of J_sample(t) over the frame times."""
    rate_ref, rate_sample, _, _ = rates_at(theta, t)
    return float(np.mean(rate_ref)), float(np.mean(rate_sample))


def reference_is_slower(configured: np.ndarray, t: np.ndarray) -> bool:
    """The preferred labelling: True unless the configured start makes the reference the faster."""
    reference, sample = mean_rates(configured, t)
    return reference <= sample


def has_preferred_labelling(theta: np.ndarray, configured: np.ndarray, t: np.ndarray) -> bool:
    reference, sample = mean_rates(theta, t)
    return (reference <= sample) == reference_is_slower(configured, t)


def mirror_image(theta: np.ndarray, vary: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 t: np.ndarray) -> np.ndarray | None:
    """θ with the components swapped: the two transport triples exchanged, and the varying ones of
    (f0, f1, f3) the least-squares fit of 1 − f_s(t) over the frame times. None when held
    parameters forbid the swap (a transport parameter held on one side only, or at different
    values, or every fraction parameter held)."""
    reference, sample = [_INDEX[n] for n in REFERENCE], [_INDEX[n] for n in SAMPLE]
    fraction = [_INDEX[n] for n in FRACTION if vary[_INDEX[n]]]
    held_differently = (vary[reference] != vary[sample]) | (~vary[reference] & (theta[reference] != theta[sample]))
    if held_differently.any() or not fraction:
        return None
    mirror = theta.copy()
    mirror[reference], mirror[sample] = theta[sample], theta[reference]
    target = 1.0 - rates_at(theta, t)[3]

    def misfit(values):
        trial = mirror.copy()
        trial[fraction] = values
        return rates_at(trial, t)[3] - target

    start = np.clip([np.mean(target) if k == _INDEX["f0"] else 0.0 for k in fraction], lower[fraction],
                    upper[fraction])
    mirror[fraction] = least_squares(misfit, start, bounds=(lower[fraction], upper[fraction])).x
    return np.clip(mirror, lower, upper)


def indistinguishable(cost: float, mirror_cost: float, chi2_reduced: float, variance_inflation: float) -> bool:
    """Whether the mirror's cost exceeds the fit's by less than ``SIGNIFICANT_CHI2`` units of honest
    χ²: Δχ² = 2 Δcost / (χ²_red · v), where v is the fit's honest / independent-noise variance
    ratio (the frame-correlated noise makes cost differences v times larger than independent
    noise would)."""
    return 2.0 * (mirror_cost - cost) / (chi2_reduced * variance_inflation) < SIGNIFICANT_CHI2
