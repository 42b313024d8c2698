"""The heterodyne two-time correlation model (``docs/model.md``; He et al., PNAS 2025, Eq. S-95).

Pure JAX functions in float64. With t_k = k·dt the absolute time of frame k:

    J_n(t) = max(D0_n t^alpha_n + D_offset_n, 0)              n ∈ {ref, sample}
    v(t)   = v0 t^beta + v_offset
    f_s(t) = clip(f0 exp(clip(f1 (t − f2), ±100)) + f3, 0, 1),   f_r = 1 − f_s

Every time integral is a cumulative trapezoid on the discrete grid,
C[0] = 0, C[k] = C[k−1] + (t_k − t_{k−1}) (g_{k−1} + g_k)/2, so ∫_{t_i}^{t_j} g = C[j] − C[i]:
the O(N) cumulative sums are computed once per evaluation and shared by every angle and point.
For frames i, j of an angle with scattering vector q and detector angle φ (degrees):

    R  = (f_r(t_i) f_r(t_j))² exp(−q² |∫J_ref|)
    S  = (f_s(t_i) f_s(t_j))² exp(−q² |∫J_sample|)
    X  = 2 f_r(t_i) f_s(t_i) f_r(t_j) f_s(t_j) exp(−½ q² (|∫J_ref| + |∫J_sample|))
           · cos(q cos(φ + phi0) ∫v)
    f² = (f_s(t_i)² + f_r(t_i)²)(f_s(t_j)² + f_r(t_j)²)
    c2 = offset + contrast (R + S + X) / f²

|x| is the smooth sqrt(x² + ε), ε = 1e-12, so gradients stay finite on the diagonal.

Arguments shared by the functions here: ``theta`` (14,) physics parameters in the canonical
order of :mod:`heterodyne.parameters`; ``contrast``, ``offset``, ``q`` and ``phi`` (A,) per
detector angle; ``t`` (N,) frame times in seconds.
"""

from __future__ import annotations

from heterodyne.jaxconfig import jnp

SMOOTH_ABS_EPS = 1e-12
EXPONENT_CLIP = 100.0


def smooth_abs(x):
    """sqrt(x² + ε): |x| with a finite gradient at 0."""
    return jnp.sqrt(x * x + SMOOTH_ABS_EPS)


def power_law(t, prefactor, exponent):
    """prefactor · t^exponent for t > 0, with a floor on t so t^exponent stays finite."""
    t_safe = jnp.where(t > 0.0, t, jnp.finfo(t.dtype).tiny)
    return prefactor * jnp.exp(exponent * jnp.log(t_safe))


def transport_rate(t, d0, alpha, d_offset):
    """J(t) = max(D0 t^alpha + D_offset, 0)."""
    rate = power_law(t, d0, alpha) + d_offset
    return jnp.where(rate > 0.0, rate, 0.0)


def velocity(t, v0, beta, v_offset):
    """v(t) = v0 t^beta + v_offset (signed)."""
    return power_law(t, v0, beta) + v_offset


def sample_fraction(t, f0, f1, f2, f3):
    """f_s(t) = clip(f0 exp(f1 (t − f2)) + f3, 0, 1), the exponent clipped to ±100."""
    exponent = jnp.clip(f1 * (t - f2), -EXPONENT_CLIP, EXPONENT_CLIP)
    return jnp.clip(f0 * jnp.exp(exponent) + f3, 0.0, 1.0)


def cumulative_trapezoid(g, t):
    """C[0] = 0, C[k] = C[k−1] + (t_k − t_{k−1}) (g_{k−1} + g_k) / 2."""
    steps = jnp.diff(t) * 0.5 * (g[1:] + g[:-1])
    return jnp.concatenate([jnp.zeros((1,), g.dtype), jnp.cumsum(steps)])


def frame_terms(theta, t):
    """Per-frame quantities shared by all angles and points.

    Returns (C_ref, C_sample, C_v, f_s), each (N,): the cumulative trapezoids of J_ref, J_sample
    and v, and the sample fraction.
    """
    d0_r, a_r, doff_r, d0_s, a_s, doff_s, v0, beta, v_off, f0, f1, f2, f3, _ = theta
    c_ref = cumulative_trapezoid(transport_rate(t, d0_r, a_r, doff_r), t)
    c_sample = cumulative_trapezoid(transport_rate(t, d0_s, a_s, doff_s), t)
    c_velocity = cumulative_trapezoid(velocity(t, v0, beta, v_off), t)
    return c_ref, c_sample, c_velocity, sample_fraction(t, f0, f1, f2, f3)


def normalized_correlation(q, phi_rad, fs_i, fs_j, int_ref, int_sample, int_velocity):
    """(R + S + X) / f² of the module docstring, elementwise; integrals are signed differences."""
    fr_i = 1.0 - fs_i
    fr_j = 1.0 - fs_j
    q2 = q * q
    decay_ref = q2 * smooth_abs(int_ref)
    decay_sample = q2 * smooth_abs(int_sample)
    ref = (fr_i * fr_j) ** 2 * jnp.exp(-decay_ref)
    sample = (fs_i * fs_j) ** 2 * jnp.exp(-decay_sample)
    cross = (
        2.0 * ((fr_i * fs_i) * (fr_j * fs_j))
        * jnp.exp(-0.5 * (decay_ref + decay_sample))
        * jnp.cos(q * jnp.cos(phi_rad) * int_velocity)
    )
    norm = (fs_i**2 + fr_i**2) * (fs_j**2 + fr_j**2)
    return (ref + sample + cross) / norm


def c2_points(theta, contrast, offset, *, t, q, phi, angle_index, i, j):
    """c2 at a list of points: angle ``angle_index[p]``, frames ``i[p]``, ``j[p]`` (indices into t).

    Cost O(N + P): the cumulative integrals are built once and gathered at i and j. The per-frame
    and per-angle quantities are stacked so that each is gathered by one row gather (two in all):
    the reverse-mode transpose of a gather is a serial scatter-add, and one scatter of 4-wide
    rows costs about what one scalar scatter does.
    Returns an array of shape (P,).
    """
    frames = jnp.stack(frame_terms(theta, t), axis=1)
    at_i, at_j = frames[jnp.stack([i, j])]
    angles = jnp.stack([q, jnp.deg2rad(phi + theta[13]), contrast, offset], axis=1)[angle_index]
    corr = normalized_correlation(
        angles[:, 0],
        angles[:, 1],
        at_i[:, 3],
        at_j[:, 3],
        at_j[:, 0] - at_i[:, 0],
        at_j[:, 1] - at_i[:, 1],
        at_j[:, 2] - at_i[:, 2],
    )
    return angles[:, 3] + angles[:, 2] * corr


def c2_grid(theta, contrast, offset, *, t, q, phi):
    """c2 on the full N×N grid of every angle, shape (A, N, N); for plotting and simulation."""
    c_ref, c_sample, c_velocity, f_s = frame_terms(theta, t)
    phi_rad = jnp.deg2rad(phi + theta[13])

    def pairwise(c):
        return c[None, :] - c[:, None]

    corr = normalized_correlation(
        q[:, None, None],
        phi_rad[:, None, None],
        f_s[None, :, None],
        f_s[None, None, :],
        pairwise(c_ref)[None],
        pairwise(c_sample)[None],
        pairwise(c_velocity)[None],
    )
    return offset[:, None, None] + contrast[:, None, None] * corr
