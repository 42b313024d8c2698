"""Reading one frame block of a stored matrix and rebuilding the full symmetric float64 matrix.

Correlators store one triangle of the symmetric c2 (APS-U: the upper triangle including the
diagonal, the other triangle 0). The full matrix is ``C = h + hᵀ − diag(h)``, which holds whichever
triangle ``h`` fills; the diagonal block [s−1:e, s−1:e] of a half matrix is itself a half matrix,
so the same rule applies to a frame sub-range. A file that stores the full symmetric matrix
(both triangles non-zero) is taken as it is, after checking it is symmetric to float32 precision.
"""

from __future__ import annotations

import h5py
import numpy as np

from heterodyne.data.selection import FrameRange
from heterodyne.errors import HeterodyneError

SYMMETRY_TOLERANCE = 1e-5
"""Largest |h − hᵀ| relative to max |h| accepted for a stored full matrix (float32 round-off)."""


def symmetric_from_stored(block: np.ndarray, where: str) -> np.ndarray:
    """The full symmetric matrix from a stored half (either triangle) or stored full block."""
    upper_filled = bool(np.triu(block, 1).any())
    lower_filled = bool(np.tril(block, -1).any())
    if upper_filled and lower_filled:
        asymmetry = float(np.max(np.abs(block - block.T)))
        scale = float(np.max(np.abs(block)))
        if asymmetry > SYMMETRY_TOLERANCE * scale:
            raise HeterodyneError(
                f"matrix has both triangles filled but is not symmetric (max |C - Cᵀ| = {asymmetry:.3g}) {where}"
            )
        return 0.5 * (block + block.T)
    full = block + block.T
    full[np.diag_indices_from(full)] -= np.diagonal(block)
    return full


def read_symmetric_block(node: h5py.Dataset, frames: FrameRange) -> np.ndarray:
    """Rows and columns ``frames`` of a stored matrix as a full symmetric float64 (N, N) array.

    Only the requested block is read (an h5py hyperslab). Non-finite values in the block are an
    error that names the matrix and counts them; they are never filled in.
    """
    where = f"in {node.file.filename} at {node.name}"
    block = np.asarray(node[frames.rows, frames.rows], dtype=np.float64)
    non_finite = int(np.count_nonzero(~np.isfinite(block)))
    if non_finite:
        plural = "s" if non_finite != 1 else ""
        raise HeterodyneError(
            f"{non_finite} non-finite value{plural} (NaN/inf) in frames {frames.start}..{frames.end} {where}"
        )
    return symmetric_from_stored(block, where)
