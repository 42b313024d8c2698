"""Variable projection: the scaling solved exactly at every physics θ, so the search runs over θ alone.

For fixed θ, c2 at point p of angle a is offset_a + contrast_a g_p(θ), with g = (R + S + X)/f²
(docs/model.md) and contrast = B c, offset = B o (:mod:`heterodyne.scaling`). The weighted
residuals

    r_p(θ, z) = w_p (y_p − (B o)_a − (B c)_a g_p(θ)),      z = (c, o),  w_p = 1/σ_p,

are affine in z. The fit minimises φ(θ) = ‖r(θ, z*(θ))‖² with z*(θ) = argmin over the bounds of z
of ‖r(θ, z)‖² (Golub & Pereyra's variable projection): the scaling costs no nonlinear dimension
and can never drag the physics away from a poor guess of it.

One pass over the points gives everything. Per angle a it sums the Gram matrix G_a of the local
rows ℓ_p = [w_p ∂g_p/∂θ, w_p g_p, w_p, r̃_p] (n_θ + 3 columns, n_θ free physics parameters), with
r̃_p = r_p(θ, z̃) the residual at a reference scaling z̃ (the last z* found). The full augmented
row [∂r/∂θ | ∂r/∂c | ∂r/∂o | r] of a point of angle a at (θ, z) is ℓ_p E_a, with E_a mapping
w∂g/∂θ to −contrast_a (θ columns), wg to −B_a (c columns) and −(contrast_a − c̃ontrast_a)
(r column), w to −B_a (o columns) and −(offset_a − õffset_a) (r column), and r̃ to +1 (r column).
So the Gram matrix of the whole problem is F(z) = Σ_a E_aᵀ G_a E_a, at any z, from the one pass.
(Summing w y instead of r̃ would do in exact arithmetic, but ‖r‖² would then come out of a
cancellation between terms (y/σ)² larger than it, and lose digits on low-noise data.)

1. r is affine in z, so z* solves the bounded linear least-squares problem with normal matrix
   F_zz and gradient F_zr (at any z₀; ``scipy.optimize.lsq_linear``, exact).
2. At z*, the reduced Gram matrix of [J_θ | r] is the Schur complement of the free, inactive
   z block Z: F_SS − F_SZ F_ZZ⁺ F_ZS, S = θ and r. It is the Gram matrix of [P⊥J_θ | r] with P⊥
   the projection off the columns of J_Z: Kaufman's Jacobian of the projected problem. Its
   gradient P⊥J_θᵀ r = J_θᵀ r (since J_Zᵀ r = 0 at z*) and its cost ‖r‖² are exact; only the
   curvature drops the second-order term, as in Gauss–Newton.

Points are laid out so that every cache block of the pass (``CACHE_POINTS``, small enough for a
block's rows to stay in the CPU cache between their computation and their Gram matrix) holds one
angle's points, each angle padded to whole blocks with zero-weight points. The blocks are cut
into a number of chunks that does not depend on the thread count: threads evaluate chunks at
once and the chunks' sums are added in chunk order, so every thread count gives the same numbers
to the last bit.

At the optimum one more pass sums the Gram matrices of the local rows over blocks of frame pairs
and the residuals over frames (:class:`ScoreSums`): with E_a they give the block-pair sums of
[J | r] of the joint problem (physics and free scaling), which is all the frame-clustered
covariance of :mod:`heterodyne.nlsq.sandwich` needs, in (n_θ + 3)² numbers per block pair
instead of (n + 1)².
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

import numpy as np

from heterodyne.nlsq.problem import FitProblem, full_from_free, value_index
from heterodyne.numerics import LINEAR_RANK_RATIO
from heterodyne.parameters import N_PHYSICS

CACHE_POINTS = 1 << 14
"""Points per block of a Gram pass: small enough for a block's rows to stay in cache."""
CHUNK_POINTS = 1 << 18
"""At most about this many points in one compiled call (memory stays bounded)."""
PARALLEL_CHUNKS = 4
"""Chunks a pass is cut into when it has the blocks for them (threads share them out)."""
MAX_BLOCKS = 64
"""Frames are summed in at most this many base blocks per angle (block pairs: A × 64² Gram matrices)."""


class ProjectionConstants(NamedTuple):
    """The arrays the compiled passes read besides the points (JAX arrays; a pytree for jit)."""

    theta: Any         # (14,) physics parameters: fixed values, and the start of free ones
    value_index: Any   # (14,) where each physics slot takes its value from (ties, free, fixed)
    t: Any             # (N,) absolute frame times
    q: Any             # (A,) scattering vector per angle
    phi: Any           # (A,) detector angle per angle (degrees)
    contrast: Any      # (A,) reference contrast c̃_a of the residuals r̃
    offset: Any        # (A,) reference offset õ_a


def local_rows(x, constants, angle_index, i, j, value, weight):
    """ℓ = [w ∂g/∂θ_free, w g, w, r̃] of the points of one block (module docstring), (L, n_θ + 3),
    with r̃ = w (y − õ_a − c̃_a g) the residual at the reference scaling (c̃, õ) of ``constants``."""
    from heterodyne import model
    from heterodyne.jaxconfig import jax, jnp

    n_angles = constants.q.shape[0]

    def weighted_correlation(free):
        theta = full_from_free(free, constants.theta, constants.value_index)
        g = model.c2_points(theta, jnp.ones(n_angles), jnp.zeros(n_angles), t=constants.t, q=constants.q,
                            phi=constants.phi, angle_index=angle_index, i=i, j=j)
        return g * weight, g * weight

    derivative, correlation = jax.jacfwd(weighted_correlation, has_aux=True)(x)
    reference = (value - constants.offset[angle_index]) * weight - constants.contrast[angle_index] * correlation
    return jnp.concatenate([derivative, correlation[:, None], weight[:, None], reference[:, None]], axis=1)


@cache
def _compiled_angle_grams():
    """Jitted (A, k, k) per-angle Gram matrices of the local rows over one chunk of single-angle blocks."""
    from heterodyne.jaxconfig import jax, jnp

    def angle_grams(x, constants, block_angle, *blocks):
        size = x.shape[0] + 3

        def add_block(total, block):
            angle, *points = block
            rows = local_rows(x, constants, *points)
            return total.at[angle].add(rows.T @ rows), None

        start = jnp.zeros((constants.q.shape[0], size, size))
        return jax.lax.scan(add_block, start, (block_angle, *blocks))[0]

    return jax.jit(angle_grams)


@cache
def _compiled_rows():
    """Jitted local rows of every point of one chunk of blocks, (points, n_θ + 3)."""
    from heterodyne.jaxconfig import jax

    def rows(x, constants, block_angle, *blocks):
        return local_rows(x, constants, *(block.reshape(-1) for block in blocks))

    return jax.jit(rows)


def gram_square_root(gram: np.ndarray) -> np.ndarray:
    """M with MᵀM = G for the Gram matrix G of an augmented Jacobian [J | r].

    With M₁ = M[:, :n] and r_c = M[:, n]: M₁ᵀM₁ = JᵀJ, M₁ᵀr_c = Jᵀr and ‖r_c‖ = ‖r‖, so
    ‖M₁ p + r_c‖ = ‖J p + r‖ for every step p. M = diag(√λ) Vᵀ D from the eigen-decomposition
    V diag(λ) Vᵀ of the column-equilibrated D⁻¹ G D⁻¹ (D = √diag G), which keeps the small
    singular values of ill-conditioned Jacobians; λ < 0 from rounding count as 0.
    """
    scale = np.sqrt(np.clip(np.diag(gram), 0.0, None))
    scale[scale == 0.0] = 1.0
    eigenvalues, eigenvectors = np.linalg.eigh(gram / np.outer(scale, scale))
    return (np.sqrt(np.clip(eigenvalues, 0.0, None))[:, None] * eigenvectors.T) * scale


def base_block(n_frames: int) -> int:
    """Frames per base block: ⌈N / MAX_BLOCKS⌉ (1 up to 64 frames)."""
    return math.ceil(n_frames / MAX_BLOCKS)


def add_block_pair_grams(grams: np.ndarray, rows: np.ndarray, pair: np.ndarray) -> None:
    """grams[g] += Σ_{p: pair_p = g} ℓ_p ℓ_pᵀ over the ``rows`` ℓ_p (points sorted by pair)."""
    order = np.argsort(pair, kind="stable")
    rows, pairs = rows[order], pair[order]
    starts = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]])
    for start, end in zip(starts, np.r_[starts[1:], pairs.size], strict=True):
        grams[pairs[start]] += rows[start:end].T @ rows[start:end]


@dataclass(frozen=True)
class ScoreSums:
    """What the frame-clustered covariance needs, from one pass at the optimum.

    ``block_grams`` (A, B, B, k, k): the Gram matrix of the local rows ℓ_p (k = n_θ + 3) over the
    points of angle a with ⌊i/b⌋ = I, ⌊j/b⌋ = J (zero below the diagonal, I ≤ J), b = ``block``
    frames. ``expand`` (A, k, n+1): E_a, so that [J_p | r_p] = ℓ_p E_a over the n free parameters of
    the joint problem; the block-pair Gram matrix of [J | r] is E_aᵀ G_aIJ E_a and its score sum
    Z_aIJ = Σ J_pᵀ r_p = E_a[:, :n]ᵀ G_aIJ E_a[:, n]. ``residuals`` (A, N): R_af = Σ_{p ∋ (a, f)} r_p.
    ``points``: (angle, i, j, r_p) of every point, for the check of the residuals' structure.
    """

    block_grams: np.ndarray
    expand: np.ndarray
    residuals: np.ndarray
    block: int
    points: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

    @property
    def gram(self) -> np.ndarray:
        """The Gram matrix of [J | r] over all points, (n+1) × (n+1)."""
        per_angle = self.block_grams.sum(axis=(1, 2))
        return (self.expand.transpose(0, 2, 1) @ per_angle @ self.expand).sum(axis=0)


def single_angle_blocks(problem: FitProblem) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """(angle of each block (K,), the point arrays (angle, i, j, y, w) as (K, L) blocks; indices as
    int32, which halves their memory).

    Each angle's points fill whole blocks of L points (the last padded with zero-weight points on
    frame 0's diagonal, which add nothing); L ≤ ``CACHE_POINTS`` is chosen so the largest angle
    wastes no more than one block's padding.
    """
    points = problem.points
    n_angles = problem.q.size
    counts = np.bincount(points.angle_index, minlength=n_angles)
    largest = int(counts.max())
    length = math.ceil(largest / math.ceil(largest / CACHE_POINTS))
    per_angle_blocks = np.maximum(1, -(-counts // length))
    order = np.argsort(points.angle_index, kind="stable")
    weight = 1.0 / problem.sigma
    indices = (points.angle_index.astype(np.int32), points.i.astype(np.int32), points.j.astype(np.int32))
    arrays: tuple[np.ndarray, ...] = (*indices, points.value, weight)
    columns = [np.zeros((int(per_angle_blocks.sum()), length), dtype=a.dtype) for a in arrays]
    block_angle = np.repeat(np.arange(n_angles), per_angle_blocks)
    first_block = np.concatenate([[0], np.cumsum(per_angle_blocks)[:-1]])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for angle in range(n_angles):
        chosen = order[starts[angle]:starts[angle] + counts[angle]]
        rows = slice(first_block[angle], first_block[angle] + per_angle_blocks[angle])
        for column, array in zip(columns, arrays, strict=True):
            flat = np.zeros(per_angle_blocks[angle] * length, dtype=array.dtype)
            flat[:chosen.size] = array[chosen]
            column[rows] = flat.reshape(-1, length)
    return block_angle, tuple(columns)


def chunk_layout(n_blocks: int, block_length: int) -> tuple[int, int]:
    """(chunks, blocks per chunk) of a pass: ``PARALLEL_CHUNKS`` chunks when there are the blocks
    for them, more when a chunk would exceed ``CHUNK_POINTS``; independent of the thread count."""
    per_chunk = max(1, min(math.ceil(n_blocks / PARALLEL_CHUNKS), CHUNK_POINTS // block_length))
    return math.ceil(n_blocks / per_chunk), per_chunk


class ProjectedEvaluator:
    """φ(θ) of the variable-projection problem (module docstring): the per-angle Gram pass, the
    scaling z*(θ) and the square root of the reduced Gram matrix, for ``CompressedProblem``."""

    def __init__(self, problem: FitProblem, threads: int = 1):
        from heterodyne.jaxconfig import jnp

        self.problem = problem
        physics_vary = problem.vary[:N_PHYSICS]
        self.n_theta = int(physics_vary.sum())
        scaling = problem.scaling
        self.basis = np.asarray(scaling.basis, float)
        self.n_coefficients = self.basis.shape[1]
        coefficients = scaling.contrast + scaling.offset
        self.z_initial = np.array([c.initial for c in coefficients])
        self.z_lower = np.array([c.lower for c in coefficients])
        self.z_upper = np.array([c.upper for c in coefficients])
        self.z_vary = np.array([c.vary for c in coefficients], bool)
        self.reference = self.z_initial
        """The reference scaling z̃ of the next pass: the last z* found (module docstring)."""
        block_angle, blocks = single_angle_blocks(problem)
        n_chunks, per_chunk = chunk_layout(block_angle.size, blocks[0].shape[1])
        padding = n_chunks * per_chunk - block_angle.size
        block_angle = np.concatenate([block_angle, np.zeros(padding, block_angle.dtype)])
        blocks = tuple(np.concatenate([b, np.zeros((padding, b.shape[1]), b.dtype)]) for b in blocks)
        self._chunks = [
            (jnp.asarray(block_angle[k * per_chunk:(k + 1) * per_chunk]),
             *(jnp.asarray(b[k * per_chunk:(k + 1) * per_chunk]) for b in blocks))
            for k in range(n_chunks)
        ]
        self.threads = max(1, min(threads, n_chunks))
        n_angles = problem.q.size
        self._constants = ProjectionConstants(
            theta=jnp.asarray(problem.initial[:N_PHYSICS]),
            value_index=jnp.asarray(value_index(physics_vary, problem.source[:N_PHYSICS])),
            t=jnp.asarray(problem.t), q=jnp.asarray(problem.q), phi=jnp.asarray(problem.phi),
            contrast=jnp.ones(n_angles), offset=jnp.zeros(n_angles),
        )
        self._compiled = _compiled_angle_grams()

    def _constants_at(self, reference: np.ndarray) -> ProjectionConstants:
        """The compiled passes' constants with the reference scaling per angle of coefficients z̃."""
        from heterodyne.jaxconfig import jnp

        m = self.n_coefficients
        return self._constants._replace(contrast=jnp.asarray(self.basis @ reference[:m]),
                                        offset=jnp.asarray(self.basis @ reference[m:]))

    def angle_grams(self, theta_free: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """(A, n_θ+3, n_θ+3): the per-angle Gram matrices G_a of the local rows at θ, with the
        residuals r̃ at the reference scaling coefficients z̃ = ``reference``."""
        from heterodyne.jaxconfig import jax

        x = np.asarray(theta_free, float)
        constants = self._constants_at(reference)

        def evaluate(chunk):
            return jax.device_get(self._compiled(x, constants, *chunk))

        if self.threads == 1:
            parts = [evaluate(chunk) for chunk in self._chunks]
        else:
            with ThreadPoolExecutor(self.threads) as pool:
                parts = list(pool.map(evaluate, self._chunks))
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total

    def full_gram(self, grams: np.ndarray, z: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """F(z) = Σ_a E_aᵀ G_a E_a, the Gram matrix of [∂r/∂θ | ∂r/∂c | ∂r/∂o | r] (module docstring)."""
        expand = self.expansion(z, reference)
        return (expand.transpose(0, 2, 1) @ grams @ expand).sum(axis=0)

    def expansion(self, z: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """E_a (A, n_θ + 3, n_θ + 2m + 1) at the scaling coefficients z, for local rows whose
        residuals are at the coefficients ``reference`` (module docstring)."""
        n, m = self.n_theta, self.n_coefficients
        contrast = self.basis @ z[:m]
        change = self.basis @ (z - reference)[:m], self.basis @ (z - reference)[m:]
        n_angles = self.basis.shape[0]
        expand = np.zeros((n_angles, n + 3, n + 2 * m + 1))
        expand[:, np.arange(n), np.arange(n)] = -contrast[:, None]
        expand[:, n, n:n + m] = -self.basis
        expand[:, n + 1, n + m:n + 2 * m] = -self.basis
        expand[:, n, -1] = -change[0]
        expand[:, n + 1, -1] = -change[1]
        expand[:, n + 2, -1] = 1.0
        return expand

    def best_scaling(self, grams: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """z*(θ): the scaling coefficients minimising ‖r‖² within their bounds (fixed ones held),
        from the per-angle Gram matrices at θ with residuals at ``reference``."""
        z = reference.copy()
        free = self.z_vary
        if not free.any():
            return z
        from scipy.optimize import lsq_linear

        gram = self.full_gram(grams, z, reference)
        n = self.n_theta
        columns = n + np.flatnonzero(free)
        normal = gram[np.ix_(columns, columns)]
        gradient = gram[columns, -1]
        scale = np.sqrt(np.clip(np.diag(normal), 0.0, None))
        scale[scale == 0.0] = 1.0
        eigenvalues, eigenvectors = np.linalg.eigh(normal / np.outer(scale, scale))
        kept = eigenvalues > LINEAR_RANK_RATIO * eigenvalues.max(initial=0.0)
        root = np.sqrt(eigenvalues[kept])[:, None] * eigenvectors[:, kept].T * scale
        target = -(eigenvectors[:, kept].T @ (gradient / scale)) / np.sqrt(eigenvalues[kept])
        lower, upper = self.z_lower[free] - z[free], self.z_upper[free] - z[free]
        step = lsq_linear(root, target, bounds=(lower, upper), method="bvls").x
        z[free] = np.clip(z[free] + step, self.z_lower[free], self.z_upper[free])
        return z

    def reduced(self, theta_free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the reduced Gram matrix of [P⊥J_θ | r] at (θ, z*(θ)), z*(θ))."""
        reference = self.reference
        grams = self.angle_grams(theta_free, reference)
        z = self.best_scaling(grams, reference)
        self.reference = z
        gram = self.full_gram(grams, z, reference)
        n = self.n_theta
        inactive = self.z_vary & (z > self.z_lower) & (z < self.z_upper)
        kept = np.r_[np.arange(n), gram.shape[0] - 1]
        projected = n + np.flatnonzero(inactive)
        if projected.size:
            coupling = gram[np.ix_(kept, projected)]
            normal = gram[np.ix_(projected, projected)]
            inverse = np.linalg.pinv(normal, rcond=LINEAR_RANK_RATIO, hermitian=True)
            return gram[np.ix_(kept, kept)] - coupling @ inverse @ coupling.T, z
        return gram[np.ix_(kept, kept)], z

    def square_root(self, theta_free: np.ndarray) -> np.ndarray:
        """M with MᵀM the reduced Gram matrix: the projected problem in n_θ + 1 rows."""
        return gram_square_root(self.reduced(theta_free)[0])

    def theta(self, theta_free: np.ndarray) -> np.ndarray:
        """The 14 physics parameters at the free ones (ties applied)."""
        return np.asarray(full_from_free(theta_free, self.problem.initial[:N_PHYSICS],
                                         self._constants.value_index))

    def full_vector(self, theta_free: np.ndarray) -> np.ndarray:
        """The problem's full parameter vector at θ and its best scaling z*(θ)."""
        full = self.problem.initial.copy()
        full[:N_PHYSICS] = self.theta(theta_free)
        full[N_PHYSICS:] = self.best_scaling(self.angle_grams(theta_free, self.reference), self.reference)
        return full

    def score_sums(self, theta_free: np.ndarray, z: np.ndarray) -> ScoreSums:
        """The block-pair Gram matrices of the local rows, E_a over the free parameters of the joint
        problem, and the per-frame sums of r, at (θ, z); the chunks one after another."""
        n_angles, n_frames = self.problem.q.size, self.problem.t.size
        block = base_block(n_frames)
        n_blocks = math.ceil(n_frames / block)
        size = self.n_theta + 3
        free_columns = np.r_[np.arange(self.n_theta), self.n_theta + np.flatnonzero(self.z_vary), -1]
        expand = self.expansion(z, z)[:, :, free_columns]
        constants = self._constants_at(z)
        grams = np.zeros((n_angles * n_blocks**2, size, size))
        residuals = np.zeros(n_angles * n_frames)
        compiled = _compiled_rows()
        x = np.asarray(theta_free, float)
        points = []
        for chunk in self._chunks:
            rows = np.asarray(compiled(x, constants, *chunk))
            angle_index, i, j, _, weight = (np.asarray(a).reshape(-1) for a in chunk[1:])
            add_block_pair_grams(grams, rows, (angle_index * n_blocks + i // block) * n_blocks + j // block)
            point_residuals = rows[:, -1]
            for frame in (i, j):
                residuals += np.bincount(angle_index * n_frames + frame, point_residuals, minlength=residuals.size)
            real = weight > 0.0
            points.append((angle_index[real], i[real], j[real], point_residuals[real]))
        angles, first, second, point_residuals = (np.concatenate(column) for column in zip(*points, strict=True))
        return ScoreSums(grams.reshape(n_angles, n_blocks, n_blocks, size, size), expand,
                         residuals.reshape(n_angles, n_frames), block, (angles, first, second, point_residuals))
