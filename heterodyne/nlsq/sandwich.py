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

Block size (from the data): with ρ(d) the autocorrelation over frames of the per-frame residual
sums R_af (frame effects), pooled over angles, ℓ = the last lag before ρ(d) < ``DECORRELATED``,
m = 2ℓ (at least 1), rounded up to the base block of the pass, and at most N / ``MIN_BLOCKS``.

The difference of sums is not always positive semi-definite; M is projected onto the positive
semi-definite cone in column-scaled coordinates (negative eigenvalues of D⁻¹ M D⁻¹, D = √diag H,
set to 0; Cameron, Gelbach & Miller 2011).
"""

from __future__ import annotations

import math

import numpy as np

from heterodyne.nlsq.problem import ScoreSums

DECORRELATED = 0.1
MIN_BLOCKS = 8
METHOD = "frame-clustered (dyadic) sandwich H^-1 M H^-1; clusters: blocks of frames of each angle"


def frame_autocorrelation(residual_sums: np.ndarray) -> np.ndarray:
    """ρ(d), d = 0 … N−1, over frames of the (A, N) per-frame residual sums, pooled over angles."""
    centred = residual_sums - residual_sums.mean(axis=1, keepdims=True)
    variance = float(np.sum(centred * centred))
    n_frames = centred.shape[1]
    if variance == 0.0:
        return np.eye(1, n_frames)[0]
    return np.array([np.sum(centred[:, d:] * centred[:, :n_frames - d]) / variance for d in range(n_frames)])


def block_size(autocorrelation: np.ndarray, base: int) -> int:
    """m = 2ℓ frames (see the module docstring), a multiple of ``base``."""
    n_frames = autocorrelation.size
    below = np.flatnonzero(autocorrelation[1:] < DECORRELATED)
    correlated_lags = int(below[0]) if below.size else n_frames - 1
    largest = max(base, (n_frames // MIN_BLOCKS) // base * base)
    return min(max(base, math.ceil(2 * correlated_lags / base) * base), largest)


def coarsen(block_scores: np.ndarray, factor: int) -> np.ndarray:
    """Block-pair sums (A, B, B, n) summed over ``factor`` × ``factor`` groups of blocks."""
    n_angles, n_blocks, _, n = block_scores.shape
    padded = math.ceil(n_blocks / factor) * factor
    grid = np.zeros((n_angles, padded, padded, n))
    grid[:, :n_blocks, :n_blocks] = block_scores
    return grid.reshape(n_angles, padded // factor, factor, padded // factor, factor, n).sum(axis=(2, 4))


def block_dyadic_meat(block_scores: np.ndarray) -> np.ndarray:
    """M = Σ_{a,B} S_aB S_aBᵀ − Σ_{a,I<J} Z_aIJ Z_aIJᵀ from the block-pair sums Z (A, B, B, n)."""
    diagonal = np.einsum("abbn->abn", block_scores)
    per_block = block_scores.sum(axis=2) + block_scores.sum(axis=1) - diagonal
    off_diagonal = block_scores - np.einsum("abn,bc->abcn", diagonal, np.eye(block_scores.shape[1]))
    return (np.einsum("abi,abj->ij", per_block, per_block)
            - np.einsum("abci,abcj->ij", off_diagonal, off_diagonal))


def positive_semidefinite(meat: np.ndarray, jtj: np.ndarray) -> np.ndarray:
    """``meat`` with the negative eigenvalues of D⁻¹ M D⁻¹ (D = √diag JᵀJ, 1 where 0) set to 0."""
    scale = np.sqrt(np.clip(np.diag(jtj), 0.0, None))
    scale[scale == 0.0] = 1.0
    eigenvalues, eigenvectors = np.linalg.eigh(meat / np.outer(scale, scale))
    clipped = (eigenvectors * np.clip(eigenvalues, 0.0, None)) @ eigenvectors.T
    return clipped * np.outer(scale, scale)


def frame_clustered_meat(sums: ScoreSums) -> tuple[np.ndarray, dict]:
    """(M, description for the result) from the sums of one pass at the optimum."""
    autocorrelation = frame_autocorrelation(sums.residuals)
    size = block_size(autocorrelation, sums.block)
    block_scores = coarsen(sums.block_scores, size // sums.block)
    description = {
        "method": METHOD,
        "block_frames": size,
        "n_clusters": int(block_scores.shape[0] * block_scores.shape[1]),
        "frame_autocorrelation_lag1": float(autocorrelation[1]) if autocorrelation.size > 1 else 0.0,
    }
    return positive_semidefinite(block_dyadic_meat(block_scores), sums.gram[:-1, :-1]), description
