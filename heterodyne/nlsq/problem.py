"""A least-squares problem: which parameters vary, their bounds, and the weighted residuals.

The full parameter vector is [θ (14 physics), contrast coefficients, offset coefficients]; the
solver sees only the varying ones, x. With σ_p the noise of point p,

    r_p(x) = (y_p − c2(θ, contrast, offset; a_p, i_p, j_p)) / σ_p

over the strict upper triangle of every angle. Residuals and the exact Jacobian ∂r/∂x
(jax.jacfwd) are evaluated in chunks of at most ``CHUNK_POINTS`` points by one compiled function,
so memory stays bounded for large matrices and small problems pay no padding; the Jacobian is
reduced chunk by chunk to the small Gram matrix of [J | r] instead of being stored whole. With a
budget of T threads the points are cut into at least T chunks (of at least ``MIN_THREAD_POINTS``)
evaluated at once in T threads (XLA releases the GIL), and the chunks' sums are added in chunk
order: the result depends on T only through the order of that sum (round-off).
At the optimum one more pass sums the Gram matrix of [J | r] over blocks of frame pairs (its last
column holds the point scores s_p = J_pᵀ r_p) and the residuals over frames, which is all the
frame-clustered covariance of :mod:`heterodyne.nlsq.sandwich` needs (one chunk of J at a time,
so this pass runs its chunks one after another).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, partial

import numpy as np

from heterodyne.parameters import N_PHYSICS, PHYSICS_NAMES
from heterodyne.points import PointSet
from heterodyne.scaling import ScalingModel

CHUNK_POINTS = 1 << 18
MIN_THREAD_POINTS = 1 << 13
"""The fewest points of a chunk given to a thread of its own: smaller ones cost more to hand out than they save."""


@dataclass(frozen=True)
class FitProblem:
    """Everything a fit needs, as plain arrays: parameters, scaling, time grid, points, noise."""

    names: tuple[str, ...]
    initial: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    vary: np.ndarray
    scaling: ScalingModel
    t: np.ndarray
    q: np.ndarray
    phi: np.ndarray
    points: PointSet
    sigma: np.ndarray

    @property
    def free_names(self) -> tuple[str, ...]:
        return tuple(name for name, varies in zip(self.names, self.vary, strict=False) if varies)

    def full_vector(self, x_free: np.ndarray) -> np.ndarray:
        """The full parameter vector with ``x_free`` in the varying slots."""
        full = self.initial.copy()
        full[self.vary] = x_free
        return full


def make_problem(parameter_table: list[dict], scaling: ScalingModel, *, t, q, phi, points: PointSet,
                 sigma: np.ndarray) -> FitProblem:
    """Assemble a problem from the resolved per-parameter table (canonical order) and the scaling."""
    coefficients = scaling.contrast + scaling.offset
    return FitProblem(
        names=tuple(PHYSICS_NAMES) + tuple(c.name for c in coefficients),
        initial=np.array([p["initial"] for p in parameter_table] + [c.initial for c in coefficients], float),
        lower=np.array([p["lower"] for p in parameter_table] + [c.lower for c in coefficients], float),
        upper=np.array([p["upper"] for p in parameter_table] + [c.upper for c in coefficients], float),
        vary=np.array([p["vary"] for p in parameter_table] + [c.vary for c in coefficients], bool),
        scaling=scaling,
        t=np.asarray(t, float),
        q=np.asarray(q, float),
        phi=np.asarray(phi, float),
        points=points,
        sigma=np.asarray(sigma, float),
    )


def split_full(full, n_contrast: int):
    """(θ, contrast coefficients, offset coefficients) of a full parameter vector."""
    return full[:N_PHYSICS], full[N_PHYSICS:N_PHYSICS + n_contrast], full[N_PHYSICS + n_contrast:]


def weighted_residuals(x, constants, angle_index, i, j, value, weight, *, n_contrast, reverse_rule=False):
    """(y − c2(full(x))) · w on one chunk of points; ``constants`` holds the problem's arrays.

    Everything is an argument (nothing is closed over), so one compiled function serves every
    problem of the same shapes, in this process and through the persistent compile cache.
    ``reverse_rule``: c2 through :func:`heterodyne.model.c2_points_reverse` (the same values, with
    the sampler's own reverse-mode rule; reverse mode only).
    """
    from heterodyne import model

    full = constants["initial"].at[constants["free_index"]].set(x)
    theta, contrast_coefficients, offset_coefficients = split_full(full, n_contrast)
    basis = constants["basis"]
    c2_function = model.c2_points_reverse if reverse_rule else model.c2_points
    c2 = c2_function(
        theta, basis @ contrast_coefficients, basis @ offset_coefficients,
        t=constants["t"], q=constants["q"], phi=constants["phi"], angle_index=angle_index, i=i, j=j,
    )
    return (value - c2) * weight


def augmented_jacobian(n_contrast: int):
    """(x, constants, *points) ↦ A = [∂r/∂x | r] on one chunk, from one forward-mode pass (jax.jacfwd)."""
    from heterodyne.jaxconfig import jax, jnp

    residual = partial(weighted_residuals, n_contrast=n_contrast)

    def with_value(*args):
        value = residual(*args)
        return value, value

    def augmented(*args):
        jacobian, value = jax.jacfwd(with_value, has_aux=True)(*args)
        return jnp.concatenate([jacobian, value[:, None]], axis=1)

    return augmented


@cache
def _compiled(n_contrast: int):
    """Jitted Gram matrix AᵀA of A = [∂r/∂x | r] on one chunk, for ``n_contrast`` coefficients.

    The Jacobian never leaves the compiled function: only the (n+1) × (n+1) Gram matrix does. The
    chunk is summed in :func:`cache_blocks` of about ``CACHE_POINTS`` points, one after another
    (``lax.scan``), so each block's A stays in the CPU cache between its computation and its
    Gram matrix (measured at N = 400 × 3 angles, 19 free parameters: 40–47 against 66–72 ms a pass).
    """
    from heterodyne.jaxconfig import jax, jnp

    augmented = augmented_jacobian(n_contrast)

    def gram(x, constants, *points):
        n_blocks, length = cache_blocks(points[0].shape[0])

        def add_block(total, block):
            rows = augmented(x, constants, *block)
            return total + rows.T @ rows, None

        start = jnp.zeros((x.shape[0] + 1, x.shape[0] + 1))
        return jax.lax.scan(add_block, start, tuple(p.reshape(n_blocks, length) for p in points))[0]

    return jax.jit(gram)


CACHE_POINTS = 1 << 14
"""Points per block of a Gram pass: small enough for a block's [J | r] to stay in cache."""


def cache_blocks(n_points: int) -> tuple[int, int]:
    """(blocks, points per block) of a chunk of ``n_points``: ⌈n / CACHE_POINTS⌉ blocks of equal length."""
    n_blocks = math.ceil(n_points / CACHE_POINTS)
    return n_blocks, math.ceil(n_points / n_blocks)


MAX_BLOCKS = 64
"""Frames are summed in at most this many base blocks per angle (block pairs: A × 64² Gram matrices)."""


def base_block(n_frames: int) -> int:
    """Frames per base block: ⌈N / MAX_BLOCKS⌉ (1 up to 64 frames)."""
    return math.ceil(n_frames / MAX_BLOCKS)


@cache
def _compiled_augmented(n_contrast: int):
    """Jitted A = [∂r/∂x | r] on one chunk (its rows are summed on the host into block pairs)."""
    from heterodyne.jaxconfig import jax

    return jax.jit(augmented_jacobian(n_contrast))


def add_block_pair_grams(grams: np.ndarray, augmented: np.ndarray, pair: np.ndarray) -> None:
    """grams[g] += Σ_{p: pair_p = g} a_p a_pᵀ, for the rows a_p of ``augmented`` (points sorted by pair)."""
    order = np.argsort(pair, kind="stable")
    rows, pairs = augmented[order], pair[order]
    starts = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]])
    for start, end in zip(starts, np.r_[starts[1:], pairs.size], strict=True):
        grams[pairs[start]] += rows[start:end].T @ rows[start:end]


@dataclass(frozen=True)
class ScoreSums:
    """What the frame-clustered covariance needs, from one pass at x.

    ``block_grams`` (A, B, B, n+1, n+1): the Gram matrix of [J | r] over the points of angle a
    with ⌊i/b⌋ = I, ⌊j/b⌋ = J (zero below the diagonal, I ≤ J), b = ``block`` frames; its last
    column holds the block-pair score sums Z_aIJ = Σ s_p, s_p = J_pᵀ r_p. ``residuals`` (A, N):
    R_af = Σ_{p ∋ (a, f)} r_p.
    """

    block_grams: np.ndarray
    residuals: np.ndarray
    block: int

    @property
    def gram(self) -> np.ndarray:
        """The Gram matrix of [J | r] over all points."""
        return self.block_grams.sum(axis=(0, 1, 2))

    @property
    def block_scores(self) -> np.ndarray:
        """Z (A, B, B, n): the score sums of the block pairs."""
        return self.block_grams[..., :-1, -1]


def problem_constants(problem: FitProblem) -> dict:
    """The problem's arrays that ``weighted_residuals`` reads from ``constants`` (as JAX arrays)."""
    from heterodyne.jaxconfig import jnp

    return {
        "initial": jnp.asarray(problem.initial),
        "free_index": jnp.asarray(np.flatnonzero(problem.vary)),
        "basis": jnp.asarray(problem.scaling.basis),
        "t": jnp.asarray(problem.t),
        "q": jnp.asarray(problem.q),
        "phi": jnp.asarray(problem.phi),
    }


def padded_point_arrays(problem: FitProblem, size: int) -> tuple[np.ndarray, ...]:
    """(angle_index, i, j, value, weight = 1/σ) of the problem's points, padded to ``size``.

    Padding points sit on the diagonal of frame 0 with zero weight: residual 0, Jacobian row 0,
    so they change no sum, and equal sizes let one compiled function serve every chunk or shard.
    """
    points = problem.points
    padding = size - points.size

    def pad(values, fill):
        return np.concatenate([values, np.full(padding, fill, dtype=values.dtype)])

    return (pad(points.angle_index, 0), pad(points.i, 0), pad(points.j, 0),
            pad(points.value, 0.0), pad(1.0 / problem.sigma, 0.0))


def chunk_count(n_points: int, threads: int) -> int:
    """Chunks of a pass over ``n_points``: ⌈n / CHUNK_POINTS⌉, raised towards ``threads`` while a
    chunk keeps at least ``MIN_THREAD_POINTS`` points."""
    return max(1, math.ceil(n_points / CHUNK_POINTS), min(threads, n_points // MIN_THREAD_POINTS))


class ResidualEvaluator:
    """The Gram matrix of [∂r/∂x | r] of one problem, and its square root; chunked and compiled,
    the chunks evaluated in up to ``threads`` threads at once."""

    def __init__(self, problem: FitProblem, threads: int = 1):
        from heterodyne.jaxconfig import jnp

        self.problem = problem
        n_points = problem.points.size
        n_chunks = chunk_count(n_points, threads)
        self.chunk = math.prod(cache_blocks(math.ceil(n_points / n_chunks)))
        arrays = padded_point_arrays(problem, n_chunks * self.chunk)
        self._chunks = [
            tuple(jnp.asarray(array[k * self.chunk:(k + 1) * self.chunk]) for array in arrays)
            for k in range(n_chunks)
        ]
        self.n_points = n_points
        self.threads = min(threads, n_chunks)
        self._constants = problem_constants(problem)
        self._chunk_gram = _compiled(len(problem.scaling.contrast))

    def _over_chunks(self, compiled) -> list:
        """``compiled(chunk)`` of every chunk as numpy arrays, in chunk order, ``threads`` at once."""
        def evaluate(chunk):
            from heterodyne.jaxconfig import jax

            return jax.device_get(compiled(chunk))

        if self.threads == 1:
            return [evaluate(chunk) for chunk in self._chunks]
        with ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(evaluate, self._chunks))

    def gram(self, x: np.ndarray) -> np.ndarray:
        """G = AᵀA, (n+1) × (n+1), of A = [∂r/∂x | r], summed chunk by chunk."""
        return sum(self._over_chunks(lambda chunk: self._chunk_gram(x, self._constants, *chunk)))

    def score_sums(self, x: np.ndarray) -> ScoreSums:
        """The Gram matrices of the block pairs and the per-frame sums of r at ``x``."""
        n_angles, n_frames = self.problem.q.size, self.problem.t.size
        block = base_block(n_frames)
        n_blocks = math.ceil(n_frames / block)
        compiled = _compiled_augmented(len(self.problem.scaling.contrast))
        grams = np.zeros((n_angles * n_blocks**2, x.size + 1, x.size + 1))
        residuals = np.zeros(n_angles * n_frames)
        for chunk in self._chunks:
            augmented = np.asarray(compiled(x, self._constants, *chunk))
            angle_index, i, j = (np.asarray(a) for a in chunk[:3])
            add_block_pair_grams(grams, augmented, (angle_index * n_blocks + i // block) * n_blocks + j // block)
            for frame in (i, j):
                residuals += np.bincount(angle_index * n_frames + frame, augmented[:, -1], minlength=residuals.size)
        return ScoreSums(grams.reshape(n_angles, n_blocks, n_blocks, x.size + 1, x.size + 1),
                         residuals.reshape(n_angles, n_frames), block)

    def square_root(self, x: np.ndarray) -> np.ndarray:
        """M, (n+1) × (n+1), with MᵀM = G: the whole problem in n+1 rows.

        With M₁ = M[:, :n] and r_c = M[:, n]: M₁ᵀM₁ = JᵀJ, M₁ᵀr_c = Jᵀr and ‖r_c‖ = ‖r‖, so
        ‖M₁ p + r_c‖ = ‖J p + r‖ for every step p. M = diag(√λ) Vᵀ D from the eigen-decomposition
        V diag(λ) Vᵀ of the column-equilibrated D⁻¹ G D⁻¹ (D = √diag G), which keeps the
        small singular values of ill-conditioned Jacobians; λ < 0 from rounding count as 0.
        """
        gram = self.gram(x)
        scale = np.sqrt(np.diag(gram))
        scale[scale == 0.0] = 1.0
        eigenvalues, eigenvectors = np.linalg.eigh(gram / np.outer(scale, scale))
        return (np.sqrt(np.clip(eigenvalues, 0.0, None))[:, None] * eigenvectors.T) * scale
