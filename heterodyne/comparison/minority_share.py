"""The test of one component: is the minority component's share of the intensity zero?

With f_s(t) the sample's field fraction (docs/model.md), the sample's share of the scattered
intensity at time t is

    x(t) = f_s(t)² / (f_s(t)² + (1 − f_s(t))²),

the weight of the sample's term in c2 (the closed form in docs/model.md: x² S + (1 − x)² R +
2x(1 − x) X). The data have one component when x ≡ 1 (f_s ≡ 1, the sample's field alone) or
x ≡ 0 (f_s ≡ 0, its mirror image: the same data with the components swapped, which a fit reports
whenever it labels the one component the reference). The statistic is the minority share averaged
over the frames,

    μ = min(x̄, 1 − x̄),     x̄ = mean_k x(t_k),

with its standard error from the frame-clustered sandwich V by the delta method,
se² = ∇x̄ᵀ V ∇x̄ (∇ over the fitted parameters; a tied parameter passes its derivative to the one it
follows), and t = μ / se is referred to Student's t with ν, the smallest Bell–McCaffrey degrees of
freedom of the parameters μ depends on: p = P(T_ν ≥ t), one-sided (μ ≥ 0).

It is an intersection–union test of x̄ = 1 and x̄ = 0: it rejects one component only where both
one-sided tests reject, and the nearer null decides; its level holds under either. Why the share
and not f0: near f_s = 1 the heterodyne term changes c2 at second order in 1 − f0
(1 − x ≈ (1 − f0)²), so the data carry almost no information about f0 there and the Wald t of f0 = 1 is
far from t-distributed; in x the cross term 2x(1 − x) X enters at first order. Where the fit's
share is exactly 0 (x ≡ 1 or x ≡ 0 over the frames: the fit has one component), the reduction is
kept with p = 1. What it measured on speckle replicates: docs/comparison.md.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from heterodyne.comparison.reductions import REFERENCE_TRANSPORT, SAMPLE_TRANSPORT
from heterodyne.comparison.wald import WaldTest, not_testable
from heterodyne.jaxconfig import jax, jnp
from heterodyne.model import sample_fraction
from heterodyne.parameters import PHYSICS_NAMES

MINORITY_SHARE = "t(nu) of the minority intensity share, one-sided"
_FRACTION = [PHYSICS_NAMES.index(name) for name in ("f0", "f1", "f2", "f3")]


def mean_sample_share(theta, t):
    """x̄: the sample's share of the intensity, x = f_s² / (f_s² + (1 − f_s)²), averaged over ``t``."""
    fraction = sample_fraction(t, *(theta[k] for k in _FRACTION))
    return jnp.mean(fraction**2 / (fraction**2 + (1.0 - fraction) ** 2))


def sample_dominant(values: dict[str, float], t: np.ndarray) -> dict[str, float]:
    """``values`` labelled so that the sample carries most of the intensity: the reference and
    sample transport exchanged when x̄ < ½, the start of the one-component fit (f_s ≡ 1) from a
    full fit that reports the dominant component as the reference."""
    theta = np.array([values[name] for name in PHYSICS_NAMES])
    if float(mean_sample_share(theta, t)) >= 0.5:
        return values
    swapped = dict(values)
    for reference, sample in zip(REFERENCE_TRANSPORT, SAMPLE_TRANSPORT, strict=True):
        swapped[reference], swapped[sample] = values[sample], values[reference]
    return swapped


_share_and_gradient = jax.jit(jax.value_and_grad(mean_sample_share))


def minority_share_test(theta: np.ndarray, t: np.ndarray, free_names: tuple[str, ...], followed: dict[str, str],
                        covariance: np.ndarray, degrees_of_freedom: np.ndarray) -> WaldTest:
    """The test of one component (module docstring) at the fitted physics vector ``theta`` (14)
    over the frame times ``t``; ``followed`` maps each physics name to the fitted parameter whose
    value it takes (itself, its tie target; absent when held), ``covariance`` and
    ``degrees_of_freedom`` are the fit's over ``free_names``."""
    share, gradient = _share_and_gradient(jnp.asarray(theta, float), jnp.asarray(t, float))
    share = float(share)
    minority = min(share, 1.0 - share)
    index = {name: k for k, name in enumerate(free_names)}
    free_gradient = np.zeros(len(free_names))
    for name, value in zip(PHYSICS_NAMES, np.asarray(gradient), strict=True):
        if name in followed:
            free_gradient[index[followed[name]]] += value
    used = np.flatnonzero(free_gradient)
    if minority == 0.0 or not used.size:
        return WaldTest(0.0, 1, np.nan, 1.0, MINORITY_SHARE)
    block = covariance[np.ix_(used, used)]
    if not (np.isfinite(block).all() and np.isfinite(degrees_of_freedom[used]).all()):
        names = ", ".join(free_names[k] for k in used if not np.isfinite(covariance[k, k]))
        return not_testable(1, f"no honest covariance of {names or 'the fraction parameters'}")
    spread = float(free_gradient[used] @ block @ free_gradient[used])
    nu = float(degrees_of_freedom[used].min())
    if spread <= 0.0:
        return not_testable(1, "no honest covariance of the minority share")
    statistic = minority / np.sqrt(spread)
    return WaldTest(float(statistic), 1, nu, float(stats.t.sf(statistic, nu)), MINORITY_SHARE)
