"""Memory estimates of the workflow's jobs, from the size of a run's data (``resources: mem_mb``).

Rough upper estimates, not measurements: a Python process with jax and the package loaded
(:data:`BASE_MB`), the selected matrices, and per point the residual, Jacobian and solver
workspace (NLSQ) or the NUTS working arrays (a CMC shard, which loads the data and keeps its
own points).
"""

from __future__ import annotations

import math

from heterodyne.batch.shape import Selection

BASE_MB = 1024
MIB = 2**20
NLSQ_BYTES_PER_POINT_AND_COLUMN = 8 * 3
"""float64 Jacobian entries, about three copies (Jacobian, its scaled copy, the solver's workspace)."""
SHARD_BYTES_PER_POINT = 8 * 64
"""float64 per point in a NUTS step: values, model, residuals and gradients across the parameters."""


def nlsq_mem_mb(data: Selection, n_columns: int, max_points: int | None) -> int:
    """An NLSQ job: base + data + points × Jacobian columns × bytes (subsampled points if set)."""
    points = data.n_points if max_points is None else min(data.n_points, max_points)
    jacobian = points * n_columns * NLSQ_BYTES_PER_POINT_AND_COLUMN
    return BASE_MB + math.ceil((2 * data.data_bytes + jacobian) / MIB)


def shard_mem_mb(data: Selection, n_shards: int) -> int:
    """A CMC shard job: base + data + the shard's points × NUTS working bytes."""
    shard_points = math.ceil(data.n_points / n_shards)
    return BASE_MB + math.ceil((2 * data.data_bytes + shard_points * SHARD_BYTES_PER_POINT) / MIB)


def combine_mem_mb(data: Selection) -> int:
    """The consensus job: base + data (it reloads the data for the result's data section)."""
    return BASE_MB + math.ceil(2 * data.data_bytes / MIB)
