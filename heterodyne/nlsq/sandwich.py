"""The frame-clustered ("dyadic") sandwich: a covariance of the fit that holds when the noise of
c2 is shared by the elements of a common frame and of nearby frames (docs/uncertainty.md).

Every frame's intensities enter a whole row and column of a measured c2, so the noise of points
that share a frame is correlated, and so is that of points whose frames are close while the
speckle has not decorrelated. With r_p the weighted residuals, J_p their gradient, H = JᵀJ and
the scores s_p = J_pᵀ r_p, the covariance is V = H⁻¹ M H⁻¹ with the dyadic cluster-robust meat
(Aronow, Samii & Assenova 2015) over blocks of m consecutive frames of one angle:

    M = Σ_{p, p′ share a block} s_p s_p′ᵀ = Σ_{a,B} S_aB S_aBᵀ − Σ_{a, I<J} Z_aIJ Z_aIJᵀ,

where point (a, i, j) belongs to the blocks ⌊i/m⌋ and ⌊j/m⌋ of angle a, S_aB sums the scores of
the points that belong to block B (once each), and Z_aIJ those of the points in blocks I and J:
Σ_B S_B S_Bᵀ counts a pair once per block in common, which is twice exactly for two points of
the same block pair I < J. m = 1 is the clustering by frame. Angles do not share noise (their
bins have distinct pixels). Sharing a block stands for "a frame in common or within a few
frames": a kernel over frame distance Σ_{f,g} k(|f − g|) S_f S_gᵀ counts the pairs that share a
frame and are close in the other frame twice (measured: error bars 1.3–1.9× too large).

Leverage correction (CR3, the jackknife form of cluster-robust variance; Bell & McCaffrey
2002, MacKinnon, Nielsen & Webb 2023): residuals are smaller than the errors, because the fit
absorbs part of the noise of every cluster, and with few clusters for many parameters the meat
is far too small (measured on speckle replicates: 0.5–0.85 of the true score variance at
m = 24). Every cluster sum s_g (S_aB or Z_aIJ) is therefore replaced by H (H − H_g)⁻¹ s_g, with
H_g the JᵀJ of the cluster's points, so that

    V = H⁻¹ M H⁻¹ = Σ_{a,B} d_aB d_aBᵀ − Σ_{a,I<J} d_aIJ d_aIJᵀ,   d_g = (H − H_g)⁻¹ s_g,

where d_g is the one-step change of the estimate when the points of cluster g are left out.
It is computed in the whitened coordinates of H (identified directions only), where H − H_g is
I − A_g; leverages (eigenvalues of A_g) are capped at ``MAX_LEVERAGE``.

Block size (from the data): with ρ(d) the autocorrelation over frames of the per-frame residual
sums R_af (frame effects), pooled over angles, ℓ = the last lag before ρ(d) < ``DECORRELATED``
and m = 2ℓ, rounded up to the base block of the pass, at most N / ``MIN_BLOCKS`` frames. When
the sandwich at that m shows correlated noise (an honest stderr above 1.5 times the
independent-noise one), m is at least N / ``MAX_BLOCKS_PER_ANGLE``: frame correlations too weak
to see in one data set's residual sums still count. On photon-sparse speckle data (0.05 photons
per pixel and frame) ρ(1) ≈ 0.01, yet the scores of points up to 25 frames apart are correlated
enough to add 25–60 % to the variance. On independent noise the sandwich stays at the base
block, where the leverage correction is nearly exact (0.95–1.2 of the true variance; 1.2–1.5
with blocks of N/8). The upper limit keeps 4 clusters per angle; with the leverage correction
few large blocks are better than many short ones (60-frame speckle replicates: rms z 1.0–1.1
with blocks up to N/4, 1.6–1.9 with blocks up to N/8).

The difference of sums is not always positive semi-definite; M is projected onto the positive
semi-definite cone in column-scaled coordinates (negative eigenvalues of D⁻¹ M D⁻¹, D = √diag H,
set to 0; Cameron, Gelbach & Miller 2011).
"""

from __future__ import annotations

import math

import numpy as np

from heterodyne.nlsq.projection import ScoreSums
from heterodyne.nlsq.uncertainty import DEGENERATE_RATIO

DECORRELATED = 0.1
MIN_BLOCKS = 4
MAX_BLOCKS_PER_ANGLE = 8
CORRELATED_VARIANCE_RATIO = 1.5**2
"""The noise counts as correlated when an honest stderr exceeds the independent-noise one by more
than 1.5 (the threshold of the result's warning)."""
CLUSTER_BATCH = 128
"""Clusters of each angle whose leverage matrices are formed at once (memory, not numbers)."""
MAX_LEVERAGE = 0.99
"""A cluster holding more of the information in a direction counts as holding this much (its
deletion change is at most 100 times its score)."""
METHOD = ("frame-clustered (dyadic) sandwich H^-1 M H^-1, leverage-corrected (CR3); clusters: blocks of "
          "frames of each angle")


def frame_autocorrelation(residual_sums: np.ndarray) -> np.ndarray:
    """ρ(d), d = 0 … N−1, over frames of the (A, N) per-frame residual sums, pooled over angles."""
    centred = residual_sums - residual_sums.mean(axis=1, keepdims=True)
    variance = float(np.sum(centred * centred))
    n_frames = centred.shape[1]
    if variance == 0.0:
        return np.eye(1, n_frames)[0]
    return np.array([np.sum(centred[:, d:] * centred[:, :n_frames - d]) / variance for d in range(n_frames)])


def block_size(autocorrelation: np.ndarray, base: int) -> int:
    """m = 2ℓ frames (see the module docstring), a multiple of ``base``, at most N / ``MIN_BLOCKS``."""
    n_frames = autocorrelation.size
    below = np.flatnonzero(autocorrelation[1:] < DECORRELATED)
    correlated_lags = int(below[0]) if below.size else n_frames - 1
    largest = max(base, (n_frames // MIN_BLOCKS) // base * base)
    return min(max(base, math.ceil(2 * correlated_lags / base) * base), largest)


def correlated_block_size(n_frames: int, base: int) -> int:
    """The smallest block once the noise is known to be correlated: N / ``MAX_BLOCKS_PER_ANGLE``
    frames, a multiple of ``base``, at most N / ``MIN_BLOCKS``."""
    largest = max(base, (n_frames // MIN_BLOCKS) // base * base)
    return min(math.ceil(n_frames / MAX_BLOCKS_PER_ANGLE / base) * base, largest)


def largest_variance_ratio(meat: np.ndarray, whiten: np.ndarray, chi2_reduced: float) -> float:
    """max_k V_kk / (χ²_red H⁺)_kk with V = H⁺ M H⁺: the largest squared stderr ratio, honest over
    independent-noise, on the identified directions of H = JᵀJ (H⁺ = W Wᵀ, W = ``whitening(H)``)."""
    sandwich = whiten @ (whiten.T @ meat @ whiten) @ whiten.T
    independent = chi2_reduced * np.einsum("ij,ij->i", whiten, whiten)
    usable = independent > 0.0
    return float(np.max(np.diag(sandwich)[usable] / independent[usable], initial=0.0))


def coarsen(block_sums: np.ndarray, factor: int) -> np.ndarray:
    """Block-pair sums (A, B, B, …) summed over ``factor`` × ``factor`` groups of blocks."""
    n_angles, n_blocks, _, *rest = block_sums.shape
    padded = math.ceil(n_blocks / factor) * factor
    grid = np.zeros((n_angles, padded, padded, *rest))
    grid[:, :n_blocks, :n_blocks] = block_sums
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
    eigen-decomposition V Λ Vᵀ of D⁻¹ JᵀJ D⁻¹ (D = ``column_scale``), λ ≥ DEGENERATE_RATIO λ_max."""
    scale = column_scale(jtj)
    eigenvalues, eigenvectors = np.linalg.eigh(jtj / np.outer(scale, scale))
    kept = eigenvalues >= DEGENERATE_RATIO * eigenvalues[-1]
    return eigenvectors[:, kept] / np.sqrt(eigenvalues[kept]) / scale[:, None]


def deletion_changes(cluster_grams: np.ndarray, expand: np.ndarray, whiten: np.ndarray) -> tuple[np.ndarray, float]:
    """(d_g (A·K, k), the largest leverage): d_g = (I − Wᵀ H_g W)⁻¹ Wᵀ s_g for the K clusters g of
    every angle a, from their local Gram matrices G_g (``cluster_grams`` (A, K, l, l)) and E_a
    (``expand`` (A, l, n+1), :class:`heterodyne.nlsq.projection.ScoreSums`): with U_a = E_a[:, :n] W,
    Wᵀ H_g W = U_aᵀ G_g U_a and Wᵀ s_g = U_aᵀ G_g E_a[:, n]. The leverages (eigenvalues of
    Wᵀ H_g W) are capped at ``MAX_LEVERAGE``. Clusters are taken ``CLUSTER_BATCH`` at a time, so
    the k × k leverage matrices of many clusters and parameters never fill the memory at once."""
    n = whiten.shape[0]
    projector = (expand[:, :, :n] @ whiten)[:, None]
    changes, largest = [], 0.0
    for start in range(0, cluster_grams.shape[1], CLUSTER_BATCH):
        grams = cluster_grams[:, start:start + CLUSTER_BATCH]
        leverage_matrix = projector.transpose(0, 1, 3, 2) @ grams @ projector
        scores = (projector.transpose(0, 1, 3, 2) @ (grams @ expand[:, None, :, n:]))[..., 0]
        leverages, vectors = np.linalg.eigh(leverage_matrix)
        leverages = np.clip(leverages, 0.0, MAX_LEVERAGE)
        rotated = (scores[..., None, :] @ vectors)[..., 0, :] / (1.0 - leverages)
        changes.append((vectors @ rotated[..., None])[..., 0])
        largest = max(largest, float(leverages.max(initial=0.0)))
    return np.concatenate(changes, axis=1).reshape(-1, whiten.shape[1]), largest


def leverage_corrected_meat(block_grams: np.ndarray, expand: np.ndarray, jtj: np.ndarray,
                            whiten: np.ndarray) -> tuple[np.ndarray, float]:
    """(M, largest leverage): the dyadic meat with every cluster's score sum replaced by
    H (H − H_g)⁻¹ s_g (see the module docstring), on the identified directions of H = JᵀJ
    (``whiten`` = ``whitening(H)``), from the local block-pair Gram matrices and E_a."""
    members, leverage_members = deletion_changes(block_memberships(block_grams), expand, whiten)
    pairs, leverage_pairs = deletion_changes(off_diagonal_pairs(block_grams), expand, whiten)
    whitened_meat = members.T @ members - pairs.T @ pairs
    back = jtj @ whiten
    return back @ whitened_meat @ back.T, max(leverage_members, leverage_pairs)


def positive_semidefinite(meat: np.ndarray, jtj: np.ndarray) -> np.ndarray:
    """``meat`` with the negative eigenvalues of D⁻¹ M D⁻¹ (D = ``column_scale``) set to 0."""
    scale = column_scale(jtj)
    eigenvalues, eigenvectors = np.linalg.eigh(meat / np.outer(scale, scale))
    clipped = (eigenvectors * np.clip(eigenvalues, 0.0, None)) @ eigenvectors.T
    return clipped * np.outer(scale, scale)


def frame_clustered_meat(sums: ScoreSums, chi2_reduced: float) -> tuple[np.ndarray, dict]:
    """(M, description for the result) from the sums of one pass at the optimum; χ²_red decides
    whether the noise is correlated (see the module docstring)."""
    autocorrelation = frame_autocorrelation(sums.residuals)
    jtj = sums.gram[:-1, :-1]
    whiten = whitening(jtj)
    n_frames = sums.residuals.shape[1]

    def meat_for(size: int) -> tuple[np.ndarray, float, int]:
        block_grams = coarsen(sums.block_grams, size // sums.block)
        meat, leverage = leverage_corrected_meat(block_grams, sums.expand, jtj, whiten)
        return meat, leverage, int(block_grams.shape[0] * block_grams.shape[1])

    size = block_size(autocorrelation, sums.block)
    meat, largest_leverage, n_clusters = meat_for(size)
    correlated = largest_variance_ratio(meat, whiten, chi2_reduced) > CORRELATED_VARIANCE_RATIO
    if correlated and size < correlated_block_size(n_frames, sums.block):
        size = correlated_block_size(n_frames, sums.block)
        meat, largest_leverage, n_clusters = meat_for(size)
    description = {
        "method": METHOD,
        "block_frames": size,
        "n_clusters": n_clusters,
        "frame_autocorrelation_lag1": float(autocorrelation[1]) if autocorrelation.size > 1 else 0.0,
        "noise_correlated": bool(correlated),
        "largest_leverage": largest_leverage,
    }
    return positive_semidefinite(meat, jtj), description
