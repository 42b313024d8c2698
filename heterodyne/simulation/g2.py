"""The correlator's one-time reductions of stored two-time matrices: g2 by lag, whole and per segment."""

from __future__ import annotations

import numpy as np

G2_SEGMENTS = 5
"""Diagonal blocks of ``normalized_g2_segments``, as the correlator writes."""


def diagonal_average_g2(stored: np.ndarray) -> np.ndarray:
    """normalized_g2 (T, K): g2[τ, k] = mean over i of C_k[i, i + τ] (the stored upper triangle)."""
    n = stored.shape[1]
    g2 = np.empty((n, stored.shape[0]), dtype=np.float32)
    for lag in range(n):
        g2[lag] = np.diagonal(stored, offset=lag, axis1=1, axis2=2).mean(axis=1)
    return g2


def segment_g2(stored: np.ndarray, segments: int = G2_SEGMENTS) -> np.ndarray:
    """normalized_g2_segments (L, S, K), L = T // S: the diagonal averages within each of S
    consecutive diagonal blocks of L frames."""
    length = stored.shape[1] // segments
    blocks = [stored[:, s * length:(s + 1) * length, s * length:(s + 1) * length] for s in range(segments)]
    return np.stack([diagonal_average_g2(block) for block in blocks], axis=1)

