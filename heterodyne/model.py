"""The heterodyne two-time correlation model (``docs/model.md``; He et al., PNAS 2025, Eq. S-95).

Pure JAX functions in float64. With t_k = b·frame_time + k·dt the absolute time of frame k
(b the first stored frame, :mod:`heterodyne.data.timebase`):

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

Every point is evaluated from a small per-(angle, frame) table (:func:`angle_frame_table`), with
two exponentials per point; :func:`c2_points_reverse` gives the sampler's gradient its own
closed-form reverse-mode rule. |x| is exact; its derivative is taken as 0 at x = 0 (the
diagonal, which no fit uses).

Arguments shared by the functions here: ``theta`` (14,) physics parameters in the canonical
order of :mod:`heterodyne.parameters`; ``contrast``, ``offset``, ``q`` and ``phi`` (A,) per
detector angle; ``t`` (N,) frame times in seconds.
"""

from __future__ import annotations

from heterodyne.jaxconfig import jax, jnp

EXPONENT_CLIP = 100.0


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


def rates(theta, t):
    """(J_ref, J_sample, v, f_s) stacked on a new first axis, for physics vectors ``theta`` (…, 14)
    at times ``t`` broadcast against ``theta[..., 0]`` (the rates of ``heterodyne.parameters.RATES``)."""
    p = [theta[..., k] for k in range(13)]
    return jnp.stack([transport_rate(t, p[0], p[1], p[2]), transport_rate(t, p[3], p[4], p[5]),
                      velocity(t, p[6], p[7], p[8]), sample_fraction(t, p[9], p[10], p[11], p[12])])


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


FRAME_COLUMNS = 6
"""Quantities of the per-(angle, frame) table: a, b, cos ψ, sin ψ, ρ, σ (see :func:`angle_frame_table`)."""


def angle_frame_table(theta, t, q, phi):
    """The per-(angle, frame) quantities every point of that angle and frame uses, shape (6, A, N).

    With C_ref, C_sample, V the cumulative integrals of J_ref, J_sample, v and f_s the fraction
    (:func:`frame_terms`), g_a = q_a cos(φ_a + phi0) and n_k = f_s(t_k)² + f_r(t_k)²:

        a = ½ q² C_ref,  b = ½ q² C_sample,  cos ψ,  sin ψ (ψ = g V),  ρ = f_r/√n,  σ = f_s/√n

    so that for frames i, j of one angle, with h_ref = exp(−|a_j − a_i|), h_s = exp(−|b_j − b_i|),
    u = ρ_i ρ_j h_ref, w = σ_i σ_j h_s and κ = cos(ψ_j − ψ_i) = cos ψ_i cos ψ_j + sin ψ_i sin ψ_j,

        (R + S + X) / f² = u² + w² + 2 u w κ                       (module docstring)

    which needs two exponentials per point and no other transcendental function.
    """
    c_ref, c_sample, c_velocity, f_s = frame_terms(theta, t)
    f_r = 1.0 - f_s
    inverse_norm = 1.0 / jnp.sqrt(f_s**2 + f_r**2)
    half_q2 = 0.5 * q[:, None] ** 2
    phase = (q * jnp.cos(jnp.deg2rad(phi + theta[13])))[:, None] * c_velocity[None, :]
    per_frame = [f_r * inverse_norm, f_s * inverse_norm]
    return jnp.stack([half_q2 * c_ref, half_q2 * c_sample, jnp.cos(phase), jnp.sin(phase),
                      *(jnp.broadcast_to(column, phase.shape) for column in per_frame)])


def pair_correlation(frame_i, frame_j):
    """(R + S + X) / f² from the table quantities of frames i and j (leading axis: the 6 of
    :func:`angle_frame_table`), with the intermediate quantities (u, w, κ, h_ref, h_s and the
    signs of a_j − a_i and b_j − b_i) that :func:`_correlation_backward` reuses."""
    delta_a = frame_j[0] - frame_i[0]
    delta_b = frame_j[1] - frame_i[1]
    h_ref = jnp.exp(-jnp.abs(delta_a))
    h_sample = jnp.exp(-jnp.abs(delta_b))
    u = frame_i[4] * frame_j[4] * h_ref
    w = frame_i[5] * frame_j[5] * h_sample
    kappa = frame_i[2] * frame_j[2] + frame_i[3] * frame_j[3]
    correlation = u * u + w * w + 2.0 * u * w * kappa
    return correlation, (u, w, kappa, h_ref, h_sample, jnp.sign(delta_a), jnp.sign(delta_b))


def _frame_rows(n_frames, angle_index, i, j):
    """Columns of the flattened (·, A·N) table that hold every point's frames i and j."""
    return angle_index * n_frames + i, angle_index * n_frames + j


def _gathered(table, rows_i, rows_j):
    """The (K, P) table quantities of every point's frames i and j, one gather per quantity (a
    single gather of all K comes out of XLA in a transposed layout that every later fused loop
    then reads across: measured 30× slower at K = 25)."""
    return (jnp.stack([column[rows_i] for column in table]), jnp.stack([column[rows_j] for column in table]))


def _correlation_at(table, rows_i, rows_j, n_rows):
    """(R + S + X) / f² at the points whose frames are the columns ``rows_i`` and ``rows_j`` of
    the flattened (6, n_rows) table."""
    return pair_correlation(*_gathered(table, rows_i, rows_j))[0]


def _at_points(correlation_at, theta, contrast, offset, *, t, q, phi, angle_index, i, j):
    """c2 at the points, with the correlation computed by ``correlation_at`` (signature of
    :func:`_correlation_at`)."""
    table = angle_frame_table(theta, t, q, phi).reshape(FRAME_COLUMNS, -1)
    correlation = correlation_at(table, *_frame_rows(t.shape[0], angle_index, i, j), table.shape[1])
    return offset[angle_index] + contrast[angle_index] * correlation


def c2_points(theta, contrast, offset, *, t, q, phi, angle_index, i, j):
    """c2 at a list of points: angle ``angle_index[p]``, frames ``i[p]``, ``j[p]`` (indices into t).

    Cost O(A N + P): the table of :func:`angle_frame_table` is built once and gathered at i and
    j. Returns an array of shape (P,).
    """
    return _at_points(_correlation_at, theta, contrast, offset, t=t, q=q, phi=phi, angle_index=angle_index, i=i, j=j)


_correlation_with_own_rule = jax.custom_vjp(_correlation_at, nondiff_argnums=(3,))


def _correlation_forward(table, rows_i, rows_j, n_rows):
    frame_i, frame_j = _gathered(table, rows_i, rows_j)
    correlation, intermediate = pair_correlation(frame_i, frame_j)
    return correlation, (frame_i, frame_j, intermediate, rows_i, rows_j)


def _correlation_backward(n_rows, saved, cotangent):
    """∂/∂table of Σ_p e_p corr_p: the closed-form derivatives of u² + w² + 2uwκ with respect to
    the six quantities of frames i and j, summed into the table's columns by one segment sum over
    both sides' entries (measured 30 % faster than one per side, and than one per quantity). With
    G_u = 2(u + wκ), G_w = 2(w + uκ) and s_a, s_b the signs of a_j − a_i, b_j − b_i:

        ∂/∂a_i = −∂/∂a_j = G_u u s_a        ∂/∂b_i = −∂/∂b_j = G_w w s_b
        ∂/∂cos ψ_i = 2uw cos ψ_j            ∂/∂sin ψ_i = 2uw sin ψ_j       (i ↔ j alike)
        ∂/∂ρ_i = G_u h_ref ρ_j              ∂/∂σ_i = G_w h_s σ_j           (i ↔ j alike)
    """
    frame_i, frame_j, (u, w, kappa, h_ref, h_sample, sign_a, sign_b), rows_i, rows_j = saved
    g_u = 2.0 * (u + w * kappa) * cotangent
    g_w = 2.0 * (w + u * kappa) * cotangent
    cross = 2.0 * u * w * cotangent
    decay_ref, decay_sample = g_u * u * sign_a, g_w * w * sign_b
    side_i = jnp.stack([decay_ref, decay_sample, cross * frame_j[2], cross * frame_j[3],
                        g_u * h_ref * frame_j[4], g_w * h_sample * frame_j[5]], axis=1)
    side_j = jnp.stack([-decay_ref, -decay_sample, cross * frame_i[2], cross * frame_i[3],
                        g_u * h_ref * frame_i[4], g_w * h_sample * frame_i[5]], axis=1)
    table = jax.ops.segment_sum(jnp.concatenate([side_i, side_j]), jnp.concatenate([rows_i, rows_j]), n_rows).T
    return table, None, None


_correlation_with_own_rule.defvjp(_correlation_forward, _correlation_backward)


def c2_points_reverse(theta, contrast, offset, *, t, q, phi, angle_index, i, j):
    """:func:`c2_points` with a reverse-mode rule of its own (reverse mode only; for gradients of
    scalar losses such as a log-likelihood): the per-point derivatives are the closed forms of
    :func:`_correlation_backward`, summed into the (A, N) table, which autodiff then carries back
    to θ. Inside the sampler this takes half the time of plain reverse mode through the gathers
    (benchmarks/bench_sampler_gradient.py, docs/decisions/2026-12-01-model-inner-loop-and-timings.md)."""
    return _at_points(_correlation_with_own_rule, theta, contrast, offset, t=t, q=q, phi=phi,
                      angle_index=angle_index, i=i, j=j)


FACTOR_RANGE = 600.0
"""Largest rise of a decay exponent inside one tile for which :func:`tile_correlations` factors
the diagonal tiles too (exp(600) ≈ 10²⁶⁰, so no factor overflows)."""


def _factored(left, bridge, right):
    """Σ_k left_k(x) bridge_k right_k(y) for stacks (4, …, x) and (4, …, y): the pairs' correlations."""
    return jnp.einsum("k...x,k...,k...y->...xy", left, bridge, right)


def tile_correlations(theta, t, q, phi, *, n_tiles, tile, row_tile, column_tile):
    """(R + S + X) / f² on square tiles of each angle's frame pairs, with exponentials per frame only.

    The frames (t padded to ``n_tiles`` · ``tile`` by repeating its last time) are cut into
    ``n_tiles`` tiles of ``tile`` frames. Returns (diagonal, off): diagonal (A, n_tiles, tile,
    tile), the pairs inside one tile, exact for i < j; off (A, n, tile, tile), the pairs (i ∈ I,
    j ∈ J) of the n tile pairs I = ``row_tile``[p] < J = ``column_tile``[p].

    J ≥ 0 makes a = ½ q² C_ref and b = ½ q² C_sample non-decreasing in the frame, so for i < j
    the three decays of the module docstring's (R + S + X) / f² = u² + w² + 2uwκ are
    exp(−(e_j − e_i)) with e ∈ {2a, 2b, a + b}, and they factor through the tiles' edges:

        exp(−(e_j − e_i)) = exp(e_i − e_end(I)) · exp(e_end(I) − e_start(J)) · exp(e_start(J) − e_j)

    Each factor is at most 1, so none overflows, and one that underflows belongs to a pair whose
    decay is below 10⁻³⁰⁸. With κ = cos ψ_i cos ψ_j + sin ψ_i sin ψ_j, a pair is then a sum of
    four products, left_k(i) · bridge_k(I, J) · right_k(j):

        u² + w² + 2uwκ = ρ_i² ρ_j² E¹ + σ_i² σ_j² E² + 2 ρ_iσ_i cos ψ_i · ρ_jσ_j cos ψ_j E³
                         + 2 ρ_iσ_i sin ψ_i · ρ_jσ_j sin ψ_j E³

    Inside a diagonal tile the factors are exp(e_i − e_start(I)) ≥ 1 and exp(e_start(I) − e_j),
    used while every exponent rises by less than ``FACTOR_RANGE`` across a tile; otherwise the
    diagonal tiles take two exponentials per pair (:func:`pair_correlation`).
    """
    padding = n_tiles * tile - t.shape[0]
    t = jnp.concatenate([t, jnp.broadcast_to(t[-1], (padding,))])
    tiles = angle_frame_table(theta, t, q, phi).reshape(FRAME_COLUMNS, q.shape[0], n_tiles, tile)
    a, b, cos_psi, sin_psi, rho, sigma = tiles
    exponents = jnp.stack([2.0 * a, 2.0 * b, a + b])                       # (3, A, n_tiles, tile)
    end, start = exponents[..., -1:], exponents[..., :1]
    mixed = rho * sigma
    left_weights = jnp.stack([rho**2, sigma**2, 2.0 * mixed * cos_psi, 2.0 * mixed * sin_psi])
    right_weights = jnp.stack([rho**2, sigma**2, mixed * cos_psi, mixed * sin_psi])
    terms = jnp.array([0, 1, 2, 2])

    def diagonal_factored(_):
        ones = jnp.ones(exponents.shape[:-1])
        return _factored(left_weights * jnp.exp(exponents - start)[terms], ones[terms],
                         right_weights * jnp.exp(start - exponents)[terms])

    def diagonal_per_pair(_):
        return pair_correlation(tiles[..., :, None], tiles[..., None, :])[0]

    diagonal = jax.lax.cond(jnp.max(end - start) < FACTOR_RANGE, diagonal_factored, diagonal_per_pair, None)
    left = jnp.moveaxis(left_weights * jnp.exp(exponents - end)[terms], 2, 0)[row_tile]    # (n, 4, A, tile)
    right = jnp.moveaxis(right_weights * jnp.exp(start - exponents)[terms], 2, 0)[column_tile]
    bridge = jnp.exp(end[:, :, row_tile, 0] - start[:, :, column_tile, 0])[terms]          # (4, A, n)
    off = _factored(jnp.moveaxis(left, 0, 2), bridge, jnp.moveaxis(right, 0, 2))
    return diagonal, off


def c2_grid(theta, contrast, offset, *, t, q, phi):
    """c2 on the full N×N grid of every angle, shape (A, N, N); for plotting and simulation."""
    table = angle_frame_table(theta, t, q, phi)
    correlation = pair_correlation(table[:, :, :, None], table[:, :, None, :])[0]
    return offset[:, None, None] + contrast[:, None, None] * correlation
