"""The frame-clustered ("dyadic") sandwich: a covariance of the fit that holds when the noise of
c2 is shared by the elements of a common frame and of nearby frames (docs/uncertainty.md), with
the degrees of freedom of its standard errors.

Every frame's intensities enter a whole row and column of a measured c2, so the noise of points
that share a frame is correlated, and so is that of points whose frames are close while the
speckle has not decorrelated. With r_p the weighted residuals, J_p their gradient, H = JᵀJ and
the scores s_p = J_pᵀ r_p, the covariance is V = H⁻¹ M H⁻¹ with the dyadic cluster-robust meat
(Aronow, Samii & Assenova 2015) over blocks of m consecutive frames:

    M = Σ_{p, p′ share a block} s_p s_p′ᵀ = Σ_B S_B S_Bᵀ − Σ_{I<J} Z_IJ Z_IJᵀ,

where point (a, i, j) belongs to the blocks ⌊i/m⌋ and ⌊j/m⌋, S_B sums the scores of the points
that belong to block B (once each), and Z_IJ those of the points in blocks I and J: Σ_B S_B S_Bᵀ
counts a pair once per block in common, which is twice exactly for two points of the same block
pair I < J. A block is a block of frames of one angle, or, when the angles share noise
(:func:`shared_across_angles`), a block of frames of all angles together.

Leverage correction (CR2, Bell & McCaffrey 2002): residuals are smaller than the errors, because
the fit absorbs part of the noise of every cluster. In the whitened coordinates of H (W with
WᵀHW = I on the identified directions), cluster g's leverage matrix is A_g = Wᵀ H_g W (H_g the
JᵀJ of its points) and its score Wᵀ s_g becomes

    d_g = (I − A_g)^(-1/2) Wᵀ s_g,     Ṽ = Σ_B d_B d_Bᵀ − Σ_{I<J} d_IJ d_IJᵀ,    V = W Ṽ Wᵀ,

leverages capped at ``MAX_LEVERAGE``. For independent noise and clusters that do not overlap,
(I − A_g)^(-1/2) makes the meat unbiased; the jackknife form (I − A_g)^(-1) (CR3) gave error bars
18–75 % too large once a cluster holds most of the information in a direction
(docs/decisions/2026-12-04-sandwich-cr2-blocks-and-degrees-of-freedom.md).
Ṽ is projected onto the positive semi-definite cone in these whitened coordinates (negative
eigenvalues set to 0), where the projection does not depend on the units of the parameters and
adds nothing to a direction the data determine well.

Block size: ρ(d) is the autocorrelation over frames of the per-frame residual sums R_af
(the frame effects), pooled over angles; ℓ = the last lag before ρ(d) < ``DECORRELATED`` and
m = ``BLOCK_LAGS`` · ℓ, rounded up to the base block of the pass, at most N / ``MIN_BLOCKS``
frames. Blocks miss the correlation of points further apart than a block (for frame effects
with ρ(d) = ρ^d about 2ρ / (m (1 − ρ²)) of the variance), so they are several correlation lengths
long; on short runs, where the speckle stays correlated for more than N/4 frames, blocks of N/3
leave 3 clusters per angle and few degrees of freedom, which the t intervals then carry. The meat
is averaged over two block grids, the second shifted by m/2, so that the arbitrary block
boundaries count less (two points just either side of a boundary are linked in one of the grids).

Degrees of freedom (Bell & McCaffrey 2002): the variance estimate of parameter k is a quadratic
form in the noise e, V̂_k = eᵀ Q_k e with Q_k = Σ_g w_g u_g u_gᵀ, w_g = +1 for a block and −1 for
a block pair, u_g = (I − P) J̃_g b_g, J̃ = J W, P = J̃ J̃ᵀ and b_g = (I − A_g)^(-1/2) (row k of W).
For e with independent entries of one variance its Satterthwaite degrees of freedom are
ν_k = (tr Q_k)² / tr(Q_k²), with

    u_gᵀ u_h = b_gᵀ A_{g∩h} b_h − (A_g b_g)ᵀ (A_h b_h),

A_{g∩h} the leverage matrix of the points the two clusters share (a block pair, or nothing),
so ν_k comes from the block-pair sums alone. With two grids, ν_k is the mean of theirs. Intervals
use Student-t quantiles with ν_k degrees of freedom.
"""

from __future__ import annotations

import math

import numpy as np

from heterodyne.nlsq.projection import ScoreSums
from heterodyne.numerics import RANK_RATIO

DECORRELATED = 0.1
BLOCK_LAGS = 4
"""m = BLOCK_LAGS · ℓ frames (measured on AR(1) frame effects at N = 200: 2ℓ left the stderr 10–25 %
low, 4ℓ 0–15 %)."""
MIN_BLOCKS = 3
CORRELATED_VARIANCE_RATIO = 1.5**2
"""The noise counts as correlated when an honest stderr exceeds the independent-noise one by more
than 1.5 (the threshold of the result's warning)."""
SHARED_SIGNIFICANCE = 3.0
"""Angles share noise when the mean cross-angle correlation of the residual sums lies this many
of its standard errors above 0."""
CLUSTER_BATCH = 128
"""Block pairs of each angle whose leverage matrices are formed at once (memory, not numbers)."""
MAX_LEVERAGE = 0.99
"""A cluster holding more of the information in a direction counts as holding this much."""
LEVERAGE_POWER = 0.5
"""d_g = (I − A_g)^(−LEVERAGE_POWER) Wᵀ s_g: 1/2 is CR2 (Bell–McCaffrey)."""
METHOD = ("frame-clustered (dyadic) sandwich H^-1 M H^-1, leverage-corrected (CR2, Bell-McCaffrey), "
          "averaged over two block grids; degrees of freedom: Bell-McCaffrey")


def frame_autocorrelation(residual_sums: np.ndarray) -> np.ndarray:
    """ρ(d), d = 0 … N−1, over frames of the (A, N) per-frame residual sums, pooled over angles."""
    centred = residual_sums - residual_sums.mean(axis=1, keepdims=True)
    variance = float(np.sum(centred * centred))
    n_frames = centred.shape[1]
    if variance == 0.0:
        return np.eye(1, n_frames)[0]
    return np.array([np.sum(centred[:, d:] * centred[:, :n_frames - d]) / variance for d in range(n_frames)])


def cross_angle_correlation(residual_sums: np.ndarray) -> float:
    """The mean over pairs of angles a < b of the correlation over frames of R_af and R_bf (0 for one angle)."""
    n_angles = residual_sums.shape[0]
    if n_angles < 2:
        return 0.0
    centred = residual_sums - residual_sums.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1)
    norms[norms == 0.0] = 1.0
    correlation = (centred @ centred.T) / np.outer(norms, norms)
    return float(np.mean(correlation[np.triu_indices(n_angles, k=1)]))


def shared_across_angles(residual_sums: np.ndarray, autocorrelation: np.ndarray, correlation: float) -> bool:
    """Whether the angles share noise: the mean cross-angle correlation of the residual sums exceeds
    ``SHARED_SIGNIFICANCE`` standard errors √(τ / (N K)) of K = A(A−1)/2 pairs of N frames, with
    τ = 1 + 2 Σ_{d ≤ ℓ} ρ(d) (ℓ of :func:`correlated_lags`) for the frame correlation."""
    n_angles, n_frames = residual_sums.shape
    if n_angles < 2:
        return False
    lags = correlated_lags(autocorrelation)
    tau = max(1.0, 1.0 + 2.0 * float(np.sum(autocorrelation[1:lags + 1])))
    pairs = n_angles * (n_angles - 1) // 2
    return correlation > SHARED_SIGNIFICANCE * math.sqrt(tau / (n_frames * pairs))


def correlated_lags(autocorrelation: np.ndarray) -> int:
    """ℓ: the last lag before ρ(d) < ``DECORRELATED`` (0 when ρ(1) is already below it)."""
    below = np.flatnonzero(autocorrelation[1:] < DECORRELATED)
    return int(below[0]) if below.size else autocorrelation.size - 1


def block_size(autocorrelation: np.ndarray, base: int) -> int:
    """m = ``BLOCK_LAGS`` · ℓ frames (module docstring), a multiple of ``base``, at most N / ``MIN_BLOCKS``."""
    n_frames = autocorrelation.size
    largest = max(base, (n_frames // MIN_BLOCKS) // base * base)
    return min(max(base, math.ceil(BLOCK_LAGS * correlated_lags(autocorrelation) / base) * base), largest)


def largest_variance_ratio(meat: np.ndarray, whiten: np.ndarray, chi2_reduced: float) -> float:
    """max_k V_kk / (χ²_red H⁺)_kk with V = H⁺ M H⁺: the largest squared stderr ratio, honest over
    independent-noise, on the identified directions of H = JᵀJ (H⁺ = W Wᵀ, W = ``whitening(H)``)."""
    sandwich = whiten @ (whiten.T @ meat @ whiten) @ whiten.T
    independent = chi2_reduced * np.einsum("ij,ij->i", whiten, whiten)
    usable = independent > 0.0
    return float(np.max(np.diag(sandwich)[usable] / independent[usable], initial=0.0))


def coarsen(block_sums: np.ndarray, factor: int, shift: int = 0) -> np.ndarray:
    """Block-pair sums (A, B, B, …) summed over ``factor`` × ``factor`` groups of blocks, the grid
    shifted by ``shift`` blocks (0 ≤ shift < factor): the first group then holds blocks 0 … shift − 1."""
    n_angles, n_blocks, _, *rest = block_sums.shape
    lead = (factor - shift) % factor
    padded = math.ceil((n_blocks + lead) / factor) * factor
    grid = np.zeros((n_angles, padded, padded, *rest))
    grid[:, lead:lead + n_blocks, lead:lead + n_blocks] = block_sums
    return grid.reshape(n_angles, padded // factor, factor, padded // factor, factor, *rest).sum(axis=(2, 4))


def block_memberships(block_sums: np.ndarray) -> np.ndarray:
    """(A, B, …) sums over the points that belong to block B (once each): row + column − diagonal."""
    diagonal = np.einsum("abb...->ab...", block_sums)
    return block_sums.sum(axis=2) + block_sums.sum(axis=1) - diagonal


def off_diagonal_pairs(block_sums: np.ndarray) -> np.ndarray:
    """(A, K, …) the K block pairs I < J of every angle."""
    upper_i, upper_j = np.triu_indices(block_sums.shape[1], k=1)
    return block_sums[:, upper_i, upper_j]


def column_scale(jtj: np.ndarray) -> np.ndarray:
    """D = √diag JᵀJ, 1 where the diagonal is 0: the column scale of the eigen-decompositions here."""
    scale = np.sqrt(np.clip(np.diag(jtj), 0.0, None))
    scale[scale == 0.0] = 1.0
    return scale


def whitening(jtj: np.ndarray) -> np.ndarray:
    """W (n, k) with Wᵀ JᵀJ W = I on the identified directions: W = D⁻¹ V Λ^(-1/2) from the
    eigen-decomposition V Λ Vᵀ of D⁻¹ JᵀJ D⁻¹ (D = ``column_scale``), λ ≥ RANK_RATIO λ_max."""
    scale = column_scale(jtj)
    eigenvalues, eigenvectors = np.linalg.eigh(jtj / np.outer(scale, scale))
    kept = eigenvalues >= RANK_RATIO * eigenvalues[-1]
    return eigenvectors[:, kept] / np.sqrt(eigenvalues[kept]) / scale[:, None]


def jointly(block_grams: np.ndarray, expand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(block-pair Gram matrices of [J | r] summed over angles (1, B, B, n+1, n+1), identity E):
    the clusters of one block of frames of all angles together."""
    total = sum(expand[a].T @ block_grams[a] @ expand[a] for a in range(block_grams.shape[0]))
    return total[None], np.eye(expand.shape[2])[None]


def leverage_terms(grams: np.ndarray, projector: np.ndarray, expand: np.ndarray, whiten: np.ndarray) -> tuple:
    """For clusters of local Gram matrices G_g (A, K, l, l): the leverage matrices A_g = U_aᵀ G_g U_a
    (U_a = E_a[:, :n] W, ``projector`` (A, 1, l, k)), the corrected scores d_g = (I − A_g)^(-p) U_aᵀ
    G_g E_a[:, n] and the directions B_g = (I − A_g)^(-p) Wᵀ (A, K, k, n), p = ``LEVERAGE_POWER``,
    leverages (eigenvalues of A_g) capped at ``MAX_LEVERAGE``; and the largest leverage."""
    n = whiten.shape[0]
    leverage = projector.transpose(0, 1, 3, 2) @ grams @ projector
    scores = (projector.transpose(0, 1, 3, 2) @ (grams @ expand[:, None, :, n:]))[..., 0]
    values, vectors = np.linalg.eigh(leverage)
    values = np.clip(values, 0.0, MAX_LEVERAGE)
    factor = (1.0 - values) ** -LEVERAGE_POWER
    changes = vectors @ (factor * (scores[..., None, :] @ vectors)[..., 0, :])[..., None]
    directions = (vectors * factor[..., None, :]) @ vectors.transpose(0, 1, 3, 2) @ whiten.T
    return leverage, changes[..., 0], directions, float(values.max(initial=0.0))


def grid_variance(block_grams: np.ndarray, expand: np.ndarray, whiten: np.ndarray) -> tuple:
    """(Ṽ (k, k) before the projection, ν (n,) degrees of freedom, largest leverage) of the
    clusters of one block grid (module docstring), from the block-pair sums (A, B, B, l, l) and E_a.

    ν = (tr Q)² / tr Q² with tr Q = Σ_g w_g u_gᵀu_g and tr Q² = Σ_{g,h} w_g w_h (u_gᵀu_h)²
    = ‖Σ_g w_g c_g c_gᵀ‖²_F + Σ over cluster pairs that share points of w_g w_h ((F_gh − c_gᵀc_h)² −
    (c_gᵀc_h)²), c_g = A_g b_g, F_gh = b_gᵀ A_{g∩h} b_h: a block shares the block pair (I, J) with
    the blocks I and J, and each cluster shares itself."""
    n = whiten.shape[0]
    projector = (expand[:, :, :n] @ whiten)[:, None]

    def inner(left, left_images, right, right_images, shared):
        """(b_gᵀ A_{g∩h} b_h − c_gᵀc_h, c_gᵀc_h) per cluster pair and parameter."""
        product = np.einsum("abkn,abkn->abn", left_images, right_images)
        return np.einsum("abkn,abkn->abn", left, shared @ right) - product, product

    leverage, changes, member_directions, largest = leverage_terms(
        block_memberships(block_grams), projector, expand, whiten)
    member_images = leverage @ member_directions
    variance = np.einsum("abi,abj->ij", changes, changes)
    images = np.einsum("abkn,abln->nkl", member_images, member_images)   # Σ_g w_g c_g c_gᵀ per parameter
    own, product = inner(member_directions, member_images, member_directions, member_images, leverage)
    trace = np.sum(own, axis=(0, 1))
    sparse = np.sum(own**2 - product**2, axis=(0, 1))
    first, second = np.triu_indices(block_grams.shape[1], k=1)
    for start in range(0, first.size, CLUSTER_BATCH):
        rows, columns = first[start:start + CLUSTER_BATCH], second[start:start + CLUSTER_BATCH]
        leverage, changes, directions, pair_largest = leverage_terms(
            block_grams[:, rows, columns], projector, expand, whiten)
        largest = max(largest, pair_largest)
        variance -= np.einsum("abi,abj->ij", changes, changes)
        images_pair = leverage @ directions
        images -= np.einsum("abkn,abln->nkl", images_pair, images_pair)
        own, product = inner(directions, images_pair, directions, images_pair, leverage)
        trace -= np.sum(own, axis=(0, 1))
        sparse += np.sum(own**2 - product**2, axis=(0, 1))
        both, product = inner(member_directions[:, rows], member_images[:, rows], member_directions[:, columns],
                              member_images[:, columns], leverage)
        sparse += 2.0 * np.sum(both**2 - product**2, axis=(0, 1))
        for members in (rows, columns):
            one, product = inner(member_directions[:, members], member_images[:, members], directions,
                                 images_pair, leverage)
            sparse -= 2.0 * np.sum(one**2 - product**2, axis=(0, 1))
    trace_square = np.einsum("nkl,nkl->n", images, images) + sparse
    freedom = np.full(n, np.nan)
    positive = trace_square > 0.0
    freedom[positive] = trace[positive] ** 2 / trace_square[positive]
    return variance, freedom, largest


def positive_part(matrix: np.ndarray) -> np.ndarray:
    """The symmetric ``matrix`` with its negative eigenvalues set to 0 (nearest PSD matrix in Frobenius norm)."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.clip(eigenvalues, 0.0, None)) @ eigenvectors.T


def grid_shifts(size: int, base: int) -> tuple[int, ...]:
    """The shifts (in base blocks) of the averaged block grids: 0 and m/2 (rounded to base blocks),
    or 0 alone when a block is one base block."""
    factor = size // base
    half = round(factor / 2)
    return (0,) if factor < 2 else (0, half)


def frame_clustered_meat(sums: ScoreSums, chi2_reduced: float) -> tuple[np.ndarray, np.ndarray, dict]:
    """(M, ν per free parameter, description for the result) from the sums of one pass at the
    optimum; χ²_red tells whether the noise shows as correlated (see the module docstring)."""
    autocorrelation = frame_autocorrelation(sums.residuals)
    correlation = cross_angle_correlation(sums.residuals)
    shared = shared_across_angles(sums.residuals, autocorrelation, correlation)
    jtj = sums.gram[:-1, :-1]
    whiten = whitening(jtj)
    size = block_size(autocorrelation, sums.block)
    factor = size // sums.block
    variances, freedoms, largest, n_clusters = [], [], 0.0, 0
    for shift in grid_shifts(size, sums.block):
        block_grams, expand = coarsen(sums.block_grams, factor, shift), sums.expand
        if shared:
            block_grams, expand = jointly(block_grams, expand)
        variance, freedom, grid_largest = grid_variance(block_grams, expand, whiten)
        variances.append(variance)
        freedoms.append(freedom)
        largest = max(largest, grid_largest)
        n_clusters = n_clusters or int(block_grams.shape[0] * block_grams.shape[1])
    whitened = positive_part(np.mean(variances, axis=0))
    back = jtj @ whiten
    meat = back @ whitened @ back.T
    description = {
        "method": METHOD,
        "block_frames": size,
        "block_grids": len(variances),
        "n_clusters": n_clusters,
        "frame_autocorrelation_lag1": float(autocorrelation[1]) if autocorrelation.size > 1 else 0.0,
        "cross_angle_correlation": correlation,
        "shared_across_angles": bool(shared),
        "noise_correlated": bool(largest_variance_ratio(meat, whiten, chi2_reduced) > CORRELATED_VARIANCE_RATIO),
        "largest_leverage": largest,
    }
    return meat, np.mean(freedoms, axis=0), description
