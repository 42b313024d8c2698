"""The data as a point list: the strict upper triangle (i < j) of every angle's c2 matrix.

Only one triangle of a symmetric c2 is independent data and the diagonal carries shot-noise
excess, so fits and likelihoods use the points (angle a, frame indices i < j, value c2[a, i, j]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PointSet:
    """Points of the strict upper triangles: ``angle_index``, ``i``, ``j`` (int64) and ``value``."""

    angle_index: np.ndarray
    i: np.ndarray
    j: np.ndarray
    value: np.ndarray

    @property
    def size(self) -> int:
        return int(self.value.size)

    def lag(self) -> np.ndarray:
        """j − i, in frames, of every point."""
        return self.j - self.i

    def subset(self, index: np.ndarray) -> PointSet:
        """The points at ``index`` (in that order)."""
        return PointSet(self.angle_index[index], self.i[index], self.j[index], self.value[index])


def upper_triangle_points(c2: np.ndarray) -> PointSet:
    """All points (a, i, j) with i < j of an (A, N, N) stack, ordered by angle, then i, then j."""
    n_angles, n_frames, _ = c2.shape
    i, j = np.triu_indices(n_frames, k=1)
    angle_index = np.repeat(np.arange(n_angles), i.size)
    i_all = np.tile(i, n_angles)
    j_all = np.tile(j, n_angles)
    return PointSet(angle_index, i_all, j_all, np.asarray(c2, dtype=np.float64)[angle_index, i_all, j_all])


def random_index(size: int, max_points: int, seed: int) -> np.ndarray:
    """Sorted indices of a reproducible uniform subsample of at most ``max_points`` of ``size`` items."""
    if size <= max_points:
        return np.arange(size)
    return np.sort(np.random.default_rng(seed).choice(size, size=max_points, replace=False))


def random_subset(points: PointSet, max_points: int, seed: int) -> PointSet:
    """A reproducible uniform subsample of at most ``max_points`` points (sorted, so order is stable)."""
    return points if points.size <= max_points else points.subset(random_index(points.size, max_points, seed))
