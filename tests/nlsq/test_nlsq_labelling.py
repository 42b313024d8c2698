"""The labelling of the components: the mirror image of a fit is the same c2, and the reported
labelling is the configured one when the data cannot tell the two apart."""

import numpy as np

from heterodyne import model
from heterodyne.jaxconfig import jnp
from heterodyne.nlsq.labelling import has_preferred_labelling, indistinguishable, mirror_image
from heterodyne.parameters import PHYSICS_NAMES, PHYSICS_PARAMETERS

LOWER = np.array([p.lower for p in PHYSICS_PARAMETERS])
UPPER = np.array([p.upper for p in PHYSICS_PARAMETERS])
T = np.arange(1, 81) * 0.006


def theta(**values) -> np.ndarray:
    vector = np.array([p.default for p in PHYSICS_PARAMETERS])
    for name, value in values.items():
        vector[PHYSICS_NAMES.index(name)] = value
    return vector


def c2(vector: np.ndarray) -> np.ndarray:
    phi = jnp.asarray([0.0, 60.0, 120.0])
    return np.asarray(model.c2_grid(jnp.asarray(vector), jnp.full(3, 0.2), jnp.ones(3), t=jnp.asarray(T),
                                    q=jnp.full(3, 0.009), phi=phi))


def test_the_mirror_image_of_a_constant_fraction_is_the_same_matrix():
    fit = theta(D0_ref=4e4, alpha_ref=0.2, D0_sample=5e3, alpha_sample=-0.1, v0=1500.0, f0=0.3)
    vary = np.ones(14, bool)
    vary[PHYSICS_NAMES.index("f2")] = False
    mirror = mirror_image(fit, vary, LOWER, UPPER, T)
    assert mirror[PHYSICS_NAMES.index("D0_ref")] == 5e3 and mirror[PHYSICS_NAMES.index("alpha_sample")] == 0.2
    assert abs(mirror[PHYSICS_NAMES.index("f0")] + mirror[PHYSICS_NAMES.index("f3")] - 0.7) < 1e-6
    np.testing.assert_allclose(c2(mirror), c2(fit), atol=1e-9)


def test_no_mirror_when_held_parameters_forbid_the_swap():
    vary = np.ones(14, bool)
    vary[PHYSICS_NAMES.index("alpha_ref")] = False
    assert mirror_image(theta(alpha_ref=0.3), vary, LOWER, UPPER, T) is None
    fraction_held = np.ones(14, bool)
    fraction_held[[PHYSICS_NAMES.index(name) for name in ("f0", "f1", "f3")]] = False
    assert mirror_image(theta(), fraction_held, LOWER, UPPER, T) is None


def test_the_reference_is_the_slower_component_unless_configured_otherwise():
    slow_reference, fast_reference = theta(D0_ref=1e3, D0_sample=1e4), theta(D0_ref=1e4, D0_sample=1e3)
    template = theta()  # equal rates: no preference configured
    assert has_preferred_labelling(slow_reference, template, T)
    assert not has_preferred_labelling(fast_reference, template, T)
    assert has_preferred_labelling(fast_reference, fast_reference, T)


def test_a_cost_difference_counts_in_units_of_honest_chi2():
    # 2 Δcost / χ²_red = 60 independent-noise units; with the variance inflated 100 times by
    # frame-correlated noise that is 0.6 honest units (not significant), without it 60 (significant)
    assert indistinguishable(1000.0, 1060.0, 2.0, 100.0)
    assert not indistinguishable(1000.0, 1060.0, 2.0, 1.0)
    assert indistinguishable(1000.0, 990.0, 2.0, 1.0)
