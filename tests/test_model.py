"""The model against independent references: the closed-form equilibrium expression (model.md §4),
its symmetries, the point-list/full-grid agreement, finite differences, finiteness over the
whole bounds box, and the sampler's own reverse-mode rule against plain autodiff."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heterodyne import model
from heterodyne.jaxconfig import jax, jnp
from heterodyne.parameters import N_PHYSICS, PHYSICS_NAMES, PHYSICS_PARAMETERS


def theta_from(**values):
    """A physics vector: registry defaults overridden by ``values``."""
    by_name = {p.name: p.default for p in PHYSICS_PARAMETERS}
    by_name.update(values)
    return jnp.array([by_name[name] for name in PHYSICS_NAMES], dtype=jnp.float64)


def equilibrium_c2(tau, *, q, phi_deg, d0_ref, d0_sample, v0, x_s, phi0, contrast, offset):
    """docs/model.md, "Closed form", Eq. S-98: the exact c2 of a stationary two-component system."""
    x = x_s**2 / (x_s**2 + (1.0 - x_s) ** 2)
    angle = np.deg2rad(phi_deg + phi0)
    bracket = (
        (1 - x) ** 2 * np.exp(-(q**2) * d0_ref * tau)
        + x**2 * np.exp(-(q**2) * d0_sample * tau)
        + 2 * x * (1 - x) * np.exp(-0.5 * q**2 * (d0_ref + d0_sample) * tau)
        * np.cos(q * np.cos(angle) * v0 * tau)
    )
    return offset + contrast * bracket


EQUILIBRIUM_CASES = [
    dict(q=0.01, d0_ref=2e3, d0_sample=1.5e4, v0=400.0, x_s=0.3, phi0=0.0, dt=1e-3, first=1),
    dict(q=0.005, d0_ref=1e5, d0_sample=3e4, v0=2e3, x_s=0.7, phi0=5.0, dt=2e-3, first=40),
    dict(q=0.02, d0_ref=500.0, d0_sample=800.0, v0=50.0, x_s=0.5, phi0=-8.0, dt=5e-3, first=7),
]


@pytest.mark.parametrize("case", EQUILIBRIUM_CASES)
def test_equilibrium_closed_form(case):
    n = 120
    frames = np.arange(case["first"], case["first"] + n)
    t = jnp.asarray(frames * case["dt"])
    phi = jnp.array([0.0, 37.0, 90.0, 215.0])
    contrast = jnp.array([0.2, 0.05, 0.3, 0.12])
    offset = jnp.array([1.0, 1.02, 0.98, 1.1])
    theta = theta_from(
        D0_ref=case["d0_ref"], alpha_ref=0.0, D_offset_ref=0.0,
        D0_sample=case["d0_sample"], alpha_sample=0.0, D_offset_sample=0.0,
        v0=case["v0"], beta=0.0, v_offset=0.0,
        f0=case["x_s"], f1=0.0, f2=123.0, f3=0.0, phi0=case["phi0"],
    )
    q = jnp.full(phi.shape, case["q"])
    grid = np.asarray(model.c2_grid(theta, contrast, offset, t=t, q=q, phi=phi))
    tau = np.abs(np.subtract.outer(frames, frames)) * case["dt"]
    for a in range(len(phi)):
        expected = equilibrium_c2(
            tau, q=case["q"], phi_deg=float(phi[a]), d0_ref=case["d0_ref"],
            d0_sample=case["d0_sample"], v0=case["v0"], x_s=case["x_s"], phi0=case["phi0"],
            contrast=float(contrast[a]), offset=float(offset[a]),
        )
        rel = np.abs(grid[a] - expected) / np.abs(expected)
        assert rel.max() <= 1e-10


def general_theta():
    """A state with every effect switched on: ageing transport, accelerating flow, a varying fraction."""
    return theta_from(
        D0_ref=3e3, alpha_ref=-0.4, D_offset_ref=150.0,
        D0_sample=2e4, alpha_sample=0.6, D_offset_sample=-40.0,
        v0=600.0, beta=0.3, v_offset=12.0,
        f0=0.35, f1=-1.5, f2=0.2, f3=0.1, phi0=3.0,
    )


def general_setup(n=80, first=5, dt=4e-3):
    t = jnp.asarray(np.arange(first, first + n) * dt)
    q = jnp.array([0.008, 0.008, 0.011])
    phi = jnp.array([-20.0, 45.0, 170.0])
    contrast = jnp.array([0.15, 0.2, 0.1])
    offset = jnp.array([1.0, 1.01, 0.99])
    return t, q, phi, contrast, offset


def test_symmetric_and_diagonal():
    t, q, phi, contrast, offset = general_setup()
    grid = np.asarray(model.c2_grid(general_theta(), contrast, offset, t=t, q=q, phi=phi))
    np.testing.assert_array_equal(grid, np.swapaxes(grid, 1, 2))
    for a in range(len(phi)):
        np.testing.assert_allclose(np.diag(grid[a]), float(offset[a] + contrast[a]), rtol=0, atol=1e-8)


def test_cross_term_oscillates_but_never_below_offset():
    """X = 2 sqrt(R S) cos(...) with the mean decay, so R + S + X >= (sqrt R - sqrt S)² >= 0:
    the fringes dip towards the offset but c2 never goes below it (docs/model.md, Correlation)."""
    t, q, phi, contrast, offset = general_setup()
    theta = general_theta().at[0].set(100.0).at[3].set(100.0).at[6].set(1e4)
    grid = np.asarray(model.c2_grid(theta, contrast, offset, t=t, q=q, phi=phi))
    excess = (grid - np.asarray(offset)[:, None, None]) / np.asarray(contrast)[:, None, None]
    assert excess.min() >= -1e-12
    # the oscillation is real: along the first row the excess rises and falls several times
    assert (np.diff(np.sign(np.diff(excess[0, 0]))) != 0).sum() >= 4


def test_periodic_in_phi():
    t, q, phi, contrast, offset = general_setup()
    theta = general_theta()
    base = model.c2_grid(theta, contrast, offset, t=t, q=q, phi=phi)
    for shift in (360.0, -720.0):
        shifted = model.c2_grid(theta, contrast, offset, t=t, q=q, phi=phi + shift)
        np.testing.assert_allclose(np.asarray(shifted), np.asarray(base), rtol=0, atol=1e-12)


def test_points_equal_grid():
    t, q, phi, contrast, offset = general_setup()
    theta = general_theta()
    grid = np.asarray(model.c2_grid(theta, contrast, offset, t=t, q=q, phi=phi))
    rng = np.random.default_rng(1)
    n_points = 3000
    angle_index = rng.integers(0, len(phi), n_points)
    i = rng.integers(0, len(t), n_points)
    j = rng.integers(0, len(t), n_points)
    points = np.asarray(
        model.c2_points(theta, contrast, offset, t=t, q=q, phi=phi,
                        angle_index=angle_index, i=i, j=j)
    )
    expected = grid[angle_index, i, j]
    np.testing.assert_allclose(points, expected, rtol=1e-13, atol=0)


def packed_model(t, q, phi, angle_index, i, j):
    """c2 at fixed points as a function of one vector (14 physics, A contrasts, A offsets)."""
    n_angles = len(phi)

    def evaluate(packed):
        theta = packed[:N_PHYSICS]
        contrast = packed[N_PHYSICS:N_PHYSICS + n_angles]
        offset = packed[N_PHYSICS + n_angles:]
        return model.c2_points(theta, contrast, offset, t=t, q=q, phi=phi,
                               angle_index=angle_index, i=i, j=j)

    return evaluate


def test_jacobian_matches_central_differences():
    t, q, phi, contrast, offset = general_setup(n=40)
    rng = np.random.default_rng(2)
    n_points = 400
    angle_index = rng.integers(0, len(phi), n_points)
    i = rng.integers(0, len(t), n_points)
    j = rng.integers(0, len(t), n_points)
    evaluate = jax.jit(packed_model(t, q, phi, angle_index, i, j))
    packed = jnp.concatenate([general_theta(), contrast, offset])
    jacobian = np.asarray(jax.jacfwd(evaluate)(packed))
    for k in range(packed.size):
        step = 1e-6 * max(abs(float(packed[k])), 1e-2)
        plus = np.asarray(evaluate(packed.at[k].add(step)))
        minus = np.asarray(evaluate(packed.at[k].add(-step)))
        finite_difference = (plus - minus) / (2 * step)
        scale = np.abs(finite_difference).max() + 1e-12
        assert np.abs(jacobian[:, k] - finite_difference).max() <= 1e-5 * scale, k
        # every parameter matters somewhere in this state, so the check is not vacuous
        assert np.abs(jacobian[:, k]).max() > 0, k


LOWER = np.array([p.lower for p in PHYSICS_PARAMETERS])
UPPER = np.array([p.upper for p in PHYSICS_PARAMETERS])
_T_PROPERTY = 12
_ANGLE = np.array([0, 1, 0, 1, 1, 0])
_I = np.array([0, 0, 3, 5, 11, 7])
_J = np.array([0, 1, 4, 11, 11, 2])


@jax.jit
def _value_and_jacobian(packed, t):
    evaluate = packed_model(
        t, jnp.array([0.002, 0.05]), jnp.array([0.0, 90.0]), _ANGLE, _I, _J
    )
    return evaluate(packed), jax.jacfwd(evaluate)(packed)


unit_interval = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(
    position=st.lists(unit_interval, min_size=N_PHYSICS, max_size=N_PHYSICS),
    scaling=st.lists(unit_interval, min_size=4, max_size=4),
    log_dt=st.floats(-9.0, 0.0),
    first_frame=st.integers(1, 5000),
)
def test_finite_everywhere_inside_bounds(position, scaling, log_dt, first_frame):
    theta = LOWER + np.array(position) * (UPPER - LOWER)
    contrast = np.array(scaling[:2])
    offset = 0.5 + np.array(scaling[2:])
    packed = jnp.asarray(np.concatenate([theta, contrast, offset]))
    t = jnp.asarray(np.arange(first_frame, first_frame + _T_PROPERTY) * 10.0**log_dt)
    value, jacobian = _value_and_jacobian(packed, t)
    assert np.isfinite(np.asarray(value)).all()
    assert np.isfinite(np.asarray(jacobian)).all()


EDGE_STATES = {
    "general": general_theta(),
    # the sample's rate max(D0 t^α + D_offset, 0) is clipped to 0 over the first half of the window
    "clipped rate": general_theta().at[5].set(-6000.0),
    # f_s = clip(f0 e^{f1 (t − f2)} + f3, 0, 1) reaches 1 inside the window
    "clipped fraction": general_theta().at[9].set(0.8).at[10].set(2.0).at[12].set(0.15),
}


def random_points(n_frames, n_angles, n_points, seed):
    """Points of every kind: i < j, i > j and i = j (the model is symmetric in i, j)."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n_frames, n_points)
    j = np.where(rng.random(n_points) < 0.1, i, rng.integers(0, n_frames, n_points))
    return rng.integers(0, n_angles, n_points), i, j


@pytest.mark.parametrize("state", EDGE_STATES)
def test_reverse_rule_equals_plain_reverse_mode(state):
    """The gradient of a weighted sum of squares through c2_points_reverse's own reverse-mode rule
    equals plain autodiff through c2_points, in θ, contrast and offset."""
    t, q, phi, contrast, offset = general_setup(n=60)
    angle_index, i, j = random_points(60, len(phi), 4000, seed=4)
    points = dict(t=t, q=q, phi=phi, angle_index=angle_index, i=i, j=j)
    rng = np.random.default_rng(5)
    data = np.asarray(model.c2_points(EDGE_STATES[state], contrast, offset, **points))
    data = data + 0.01 * rng.standard_normal(i.size)
    weight = rng.uniform(0.5, 2.0, i.size)

    def loss(c2_function):
        def of(theta, contrast, offset):
            residuals = (data - c2_function(theta, contrast, offset, **points)) * weight
            return residuals @ residuals
        return jax.jit(jax.value_and_grad(of, argnums=(0, 1, 2)))

    start = EDGE_STATES[state] * 1.01
    value, gradients = loss(model.c2_points_reverse)(start, contrast * 1.1, offset)
    reference_value, reference_gradients = loss(model.c2_points)(start, contrast * 1.1, offset)
    np.testing.assert_allclose(value, reference_value, rtol=1e-14)
    for gradient, reference in zip(gradients, reference_gradients, strict=True):
        reference = np.asarray(reference)
        assert np.abs(np.asarray(gradient) - reference).max() <= 1e-11 * np.abs(reference).max()
